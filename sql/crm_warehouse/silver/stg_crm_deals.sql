-- silver.stg_crm_deals: one row per deal, its latest version, typed, with is_closed, is_won and
-- is_overdue (open, and its expected close date before the CRM's as-of date).
-- Which version: the latest updated_at; on a tie the file ingested last, then the later file
-- name, then the later line (see stg_crm_accounts). Every version stays in bronze: the stage
-- history (gold.fact_deal_stage_history) is built from all of them.
-- Refresh: by change date: deals with a version updated in @date_from..@date_to are derived again
-- from all their versions; then is_overdue is brought up to the as-of date for the open deals
-- whose flag it changes (the as-of date moves with every export).

DELETE FROM silver.stg_crm_deals
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR deal_id IN (
        SELECT changed.deal_id FROM bronze.crm_deals changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_deals' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT deal_id
    FROM bronze.crm_deals
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_deals' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

versions AS (
    SELECT
        b.deal_id, b.account_id, b.contact_id, b.deal_name, b.stage, b.amount, b.probability,
        b.expected_close_date, b.owner, b.created_at, b.closed_at, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.deal_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_deals b
    WHERE b.deal_id IN (SELECT deal_id FROM changed)
),

latest AS (
    SELECT
        v.*,
        CASE WHEN v.stage IN ('closed_won', 'closed_lost') THEN 1 ELSE 0 END AS closed_flag
    FROM versions v
    WHERE v.version_rank = 1
)

INSERT INTO silver.stg_crm_deals (
    deal_id, account_id, contact_id, deal_name, stage, amount, probability, expected_close_date, owner,
    created_at, closed_at, is_closed, is_won, is_overdue, updated_at, updated_date, _source_file, _row_number
)
SELECT
    l.deal_id,
    l.account_id,
    l.contact_id,
    l.deal_name,
    l.stage,
    CAST(l.amount AS DECIMAL(14, 2)) AS amount,
    CAST(l.probability AS INT) AS probability,
    CAST(l.expected_close_date AS DATE) AS expected_close_date,
    l.owner,
    {{ to_timestamp(l.created_at) }} AS created_at,
    {{ to_timestamp(l.closed_at) }} AS closed_at,
    l.closed_flag AS is_closed,
    CASE WHEN l.stage = 'closed_won' THEN 1 ELSE 0 END AS is_won,
    CASE WHEN l.closed_flag = 0 AND CAST(l.expected_close_date AS DATE) < a.as_of_date THEN 1 ELSE 0 END AS is_overdue,
    {{ to_timestamp(l.updated_at) }} AS updated_at,
    CAST(l.updated_at AS DATE) AS updated_date,
    l._source_file,
    l._row_number
FROM latest l
CROSS JOIN silver.crm_as_of a;

UPDATE silver.stg_crm_deals
SET is_overdue = CASE WHEN expected_close_date < (SELECT as_of_date FROM silver.crm_as_of) THEN 1 ELSE 0 END
WHERE is_closed = 0
  AND is_overdue <> CASE WHEN expected_close_date < (SELECT as_of_date FROM silver.crm_as_of) THEN 1 ELSE 0 END;
