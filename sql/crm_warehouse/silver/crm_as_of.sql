-- silver.crm_as_of: the moment the CRM data describes, one row: the latest updated_at in any CRM
-- export. Every "as of" rule of the CRM models (overdue deals and activities, SLA clocks still
-- running, closed periods) is measured against it, never against the wall clock.
-- Refresh: full (seven MAX scans, each over only the files holding its source's latest date:
-- ops.loaded_files records every loaded bronze file's first and last date, so the rows of the
-- other files cannot hold the latest updated_at).

DELETE FROM silver.crm_as_of;

WITH
latest AS (
    SELECT MAX(updated_at) AS updated_at FROM bronze.crm_accounts
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_accounts' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_accounts'))
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_contacts
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_contacts' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_contacts'))
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_products
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_products' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_products'))
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_deals
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_deals' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_deals'))
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_activities
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_activities' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_activities'))
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_tickets
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_tickets' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_tickets'))
    UNION ALL SELECT MAX(updated_at) FROM bronze.crm_order_lines
        WHERE _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_order_lines' AND f.max_date = (SELECT MAX(l.max_date) FROM ops.loaded_files l WHERE l.source = 'crm_order_lines'))
)

INSERT INTO silver.crm_as_of (as_of_date, as_of_at)
SELECT
    CAST(MAX(updated_at) AS DATE) AS as_of_date,
    {{ to_timestamp(MAX(updated_at)) }} AS as_of_at
FROM latest
HAVING MAX(updated_at) IS NOT NULL;
