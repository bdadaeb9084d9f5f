-- reporting.crm_as_of: one row, the moment the CRM data describes (the latest updated_at of any CRM
-- export). Every "as of" of the CRM metrics is measured against it, never the wall clock; a report
-- page or a Power BI card states it.
-- The columns are silver.crm_as_of's; the view is the stable contract.
SELECT
    as_of_date,
    as_of_at
FROM silver.crm_as_of
