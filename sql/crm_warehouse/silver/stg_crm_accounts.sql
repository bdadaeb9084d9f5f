-- silver.stg_crm_accounts: one row per account, its latest version, typed.
-- Which version: every export row of an account is a version. The latest updated_at wins; on a
-- tie the file ingested last, then the later file name, then the later line (a file may repeat an
-- account, and files arrive late and out of order).
-- Refresh: by change date. Every account with a version whose updated_at falls in
-- @date_from..@date_to is derived again from all its versions; the others stay as they are.
-- (updated_at is compared as text: its canonical form `YYYY-MM-DD HH:MM:SS.mmm` sorts as time
-- does, and a text range scans twice as fast as a cast per row; '~' sorts after any time of @date_to.
-- Only the files whose dates overlap the range are read: ops.loaded_files records each loaded bronze
-- file's first and last date, so a day's run reads the day's files instead of the whole table; on
-- SQL Server bronze is clustered on _bronze_file, a seek.)

DELETE FROM silver.stg_crm_accounts
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR account_id IN (
        SELECT changed.account_id FROM bronze.crm_accounts changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_accounts' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT account_id
    FROM bronze.crm_accounts
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_accounts' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

versions AS (
    SELECT
        b.account_id, b.account_name, b.industry, b.country, b.employee_count, b.annual_revenue,
        b.account_type, b.owner, b.created_at, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.account_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_accounts b
    WHERE b.account_id IN (SELECT account_id FROM changed)
)

INSERT INTO silver.stg_crm_accounts (
    account_id, account_name, industry, country, employee_count, annual_revenue, account_type, owner,
    created_at, updated_at, updated_date, _source_file, _row_number
)
SELECT
    account_id,
    account_name,
    industry,
    country,
    CAST(employee_count AS INT) AS employee_count,
    CAST(annual_revenue AS DECIMAL(18, 2)) AS annual_revenue,
    account_type,
    owner,
    {{ to_timestamp(created_at) }} AS created_at,
    {{ to_timestamp(updated_at) }} AS updated_at,
    CAST(updated_at AS DATE) AS updated_date,
    _source_file,
    _row_number
FROM versions
WHERE version_rank = 1;
