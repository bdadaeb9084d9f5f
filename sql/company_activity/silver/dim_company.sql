-- silver.dim_company: company attributes as SCD type 2, rebuilt from all CRM snapshots.
-- A version starts on the first snapshot whose attributes differ from the company's previous
-- snapshot; it is valid from that snapshot_date (inclusive) to the next version's (exclusive).
-- Refresh: full (the dimension is small; a late snapshot can split any version).

DELETE FROM silver.dim_company;

WITH
ranked AS (
    -- one snapshot per company and date: the latest ingested file wins, then its last line
    SELECT
        company_id,
        CAST(snapshot_date AS DATE) AS snapshot_date,
        name AS company_name,
        country,
        industry_tag,
        last_contact_at,
        _source_file,
        _row_number,
        ROW_NUMBER() OVER (
            PARTITION BY company_id, CAST(snapshot_date AS DATE)
            ORDER BY _ingested_at DESC, _source_file DESC, _row_number DESC
        ) AS snapshot_rank
    FROM bronze.crm_company_daily
),

snapshots AS (
    SELECT
        company_id,
        snapshot_date,
        company_name,
        country,
        industry_tag,
        last_contact_at,
        _source_file,
        _row_number,
        -- the attributes as one comparable text; '~' stands for NULL (never a real value here)
        CONCAT(company_name, '|', COALESCE(country, '~'), '|', COALESCE(industry_tag, '~'), '|', COALESCE(last_contact_at, '~')) AS attributes
    FROM ranked
    WHERE snapshot_rank = 1
),

changes AS (
    SELECT
        s.*,
        CASE
            WHEN LAG(attributes) OVER (PARTITION BY company_id ORDER BY snapshot_date) = attributes THEN 0
            ELSE 1
        END AS starts_version
    FROM snapshots s
),

versions AS (
    SELECT
        company_id,
        company_name,
        country,
        industry_tag,
        last_contact_at,
        snapshot_date AS valid_from,
        LEAD(snapshot_date) OVER (PARTITION BY company_id ORDER BY snapshot_date) AS next_valid_from,
        _source_file,
        _row_number
    FROM changes
    WHERE starts_version = 1
)

INSERT INTO silver.dim_company (
    company_id, company_name, country, industry_tag, last_contact_at,
    valid_from, valid_to, is_current, _source_file, _row_number
)
SELECT
    company_id,
    company_name,
    country,
    industry_tag,
    {{ to_timestamp(last_contact_at) }} AS last_contact_at,
    valid_from,
    COALESCE(next_valid_from, CAST('9999-12-31' AS DATE)) AS valid_to,
    CASE WHEN next_valid_from IS NULL THEN 1 ELSE 0 END AS is_current,
    _source_file,
    _row_number
FROM versions;
