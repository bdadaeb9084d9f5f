-- silver.crm_as_of: the moment the CRM data describes, one row: the latest updated_at in any CRM
-- export. Every "as of" rule of the CRM models (overdue deals and activities, SLA clocks still
-- running, closed periods) is measured against it, never against the wall clock.
-- Refresh: full (seven MAX scans).

DELETE FROM silver.crm_as_of;

WITH
latest AS (
    SELECT MAX(updated_at) AS updated_at FROM bronze.crm_accounts
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_contacts
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_products
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_deals
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_activities
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_tickets
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_order_lines
)

INSERT INTO silver.crm_as_of (as_of_date, as_of_at)
SELECT
    CAST(MAX(updated_at) AS DATE) AS as_of_date,
    {{ to_timestamp(MAX(updated_at)) }} AS as_of_at
FROM latest
HAVING MAX(updated_at) IS NOT NULL;
