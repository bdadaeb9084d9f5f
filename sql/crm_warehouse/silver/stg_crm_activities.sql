-- silver.stg_crm_activities: one row per activity, its latest version, typed, with is_completed.
-- Which version: the latest updated_at; on a tie the file ingested last, then the later file
-- name, then the later line (see stg_crm_accounts).
-- Refresh: by change date: activities with a version updated in @date_from..@date_to are derived
-- again from all their versions.

DELETE FROM silver.stg_crm_activities
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR activity_id IN (
        SELECT changed.activity_id FROM bronze.crm_activities changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_activities' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT activity_id
    FROM bronze.crm_activities
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_activities' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

-- The versions to rank, in one of two ways; a test on bronze versions outside @date_from …
-- @date_to lets only one of them read anything:
--   * some lie outside (a daily run): every version of every activity the dates carry (its
--     winner may lie outside them), ranked per activity;
--   * none (a first or whole build, millions of versions): an activity with one version passes
--     as it is, and only a repeated activity's versions are ranked. A window over every version
--     sorts them all (2.58 M versions, 2.0 M activities: 6.1 s against 3.9 s for this).
-- Each CTE is referenced once, so no engine evaluates one twice.
versions AS (
    SELECT
        b.activity_id, b.activity_type, b.account_id, b.contact_id, b.deal_id, b.owner, b.subject,
        b.activity_at, b.due_at, b.completed_at, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.activity_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_activities b
    WHERE b.activity_id IN (SELECT activity_id FROM changed)
      AND EXISTS (SELECT 1 FROM bronze.crm_activities o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
    UNION ALL
    SELECT
        b.activity_id, b.activity_type, b.account_id, b.contact_id, b.deal_id, b.owner, b.subject,
        b.activity_at, b.due_at, b.completed_at, b.updated_at, b._source_file, b._row_number,
        1 AS version_rank
    FROM bronze.crm_activities b
    WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_activities o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
      AND b.activity_id NOT IN (
          -- (activity_id is NOT NULL in bronze, so NOT IN cannot meet a NULL)
          SELECT r.activity_id FROM bronze.crm_activities r
          WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_activities o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
          GROUP BY r.activity_id
          HAVING COUNT(*) > 1
      )
    UNION ALL
    SELECT
        b.activity_id, b.activity_type, b.account_id, b.contact_id, b.deal_id, b.owner, b.subject,
        b.activity_at, b.due_at, b.completed_at, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.activity_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_activities b
    WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_activities o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
      AND b.activity_id IN (
          SELECT r.activity_id FROM bronze.crm_activities r
          -- (asked here too: DuckDB builds the set of ids before it finds nothing to probe)
          WHERE NOT EXISTS (SELECT 1 FROM bronze.crm_activities o WHERE o.updated_at < @date_from OR o.updated_at >= CONCAT(@date_to, '~'))
          GROUP BY r.activity_id
          HAVING COUNT(*) > 1
      )
)

INSERT INTO silver.stg_crm_activities (
    activity_id, activity_type, account_id, contact_id, deal_id, owner, subject,
    activity_at, due_at, completed_at, is_completed, updated_at, updated_date, _source_file, _row_number
)
SELECT
    activity_id,
    activity_type,
    account_id,
    contact_id,
    deal_id,
    owner,
    subject,
    {{ to_timestamp(activity_at) }} AS activity_at,
    {{ to_timestamp(due_at) }} AS due_at,
    {{ to_timestamp(completed_at) }} AS completed_at,
    CASE WHEN completed_at IS NULL THEN 0 ELSE 1 END AS is_completed,
    {{ to_timestamp(updated_at) }} AS updated_at,
    CAST(updated_at AS DATE) AS updated_date,
    _source_file,
    _row_number
FROM versions
WHERE version_rank = 1;
