-- silver.fact_company_usage_daily: one row per company and activity date.
-- The latest pull of a date wins: bronze holds one file per activity date (a re-pull replaces
-- it), and should a date ever carry duplicates, the most recently ingested row is kept.
-- Refresh: by activity date, @date_from to @date_to.

DELETE FROM silver.fact_company_usage_daily
WHERE activity_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE);

WITH
ranked AS (
    SELECT
        company_id,
        activity_date,
        active_users,
        events,
        _source_file,
        _row_number,
        _ingested_at,
        ROW_NUMBER() OVER (
            PARTITION BY company_id, activity_date
            ORDER BY _ingested_at DESC, _row_number DESC
        ) AS pull_rank
    FROM bronze.product_usage
    WHERE activity_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
)

INSERT INTO silver.fact_company_usage_daily (
    company_id, activity_date, active_users, events, _source_file, _row_number, _ingested_at
)
SELECT company_id, activity_date, active_users, events, _source_file, _row_number, _ingested_at
FROM ranked
WHERE pull_rank = 1;
