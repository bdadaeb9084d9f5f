-- reporting.customer_as_of: one row: the date every customer mart is computed as of (the data's
-- last transaction date, or the setting ANALYTICS_AS_OF_DATE), where it comes from, and the
-- dates the transactions cover. The report's "as of" and data range; never the clock.
SELECT
    as_of_date, as_of_source, first_transaction_date, last_transaction_date, history_days
FROM silver.customer_as_of
