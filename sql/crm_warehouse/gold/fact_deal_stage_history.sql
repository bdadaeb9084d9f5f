-- gold.fact_deal_stage_history: the stages of every deal as SCD type 2, one row per stage period:
-- valid_from inclusive, valid_to exclusive (9999-12-31 for the current period), is_current,
-- days_in_stage (calendar days; NULL for the current period, which has not ended), the movement
-- into it: Initial (the first), Forward (to a later stage), Backward (to an earlier one), and for
-- the funnel (gold.mtr_sales_pipeline) is_first_in_stage and reaches_later_stage (a later period
-- of a later stage, closed_lost aside).
-- Stage order: prospecting 1, qualification 2, proposal 3, negotiation 4, closed_won and
-- closed_lost 5 (a move between the two closed stages counts as Forward).
-- Built from every version of the deal ever received (bronze keeps them all), ordered by
-- updated_at, so a late export of an older version splits the period it falls into. A period
-- starts at the first version (from the deal's created_at) and at every version whose stage
-- differs from the version before it (from that version's updated_at). Two versions with the same
-- updated_at are one: the file ingested last wins, then the later line.
-- Refresh: by change date: the deals with a version updated in @date_from..@date_to are rebuilt
-- from all their versions.

DELETE FROM gold.fact_deal_stage_history
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
        b.deal_id, b.stage, b.created_at, b.updated_at,
        ROW_NUMBER() OVER (
            PARTITION BY b.deal_id, b.updated_at
            ORDER BY b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS tie_rank
    FROM bronze.crm_deals b
    WHERE b.deal_id IN (SELECT deal_id FROM changed)
),

-- (each window below orders a deal's rows by updated_at, so the engine sorts once per step; the
-- deal's last update is a whole-partition frame of that same order)
ordered AS (
    SELECT
        deal_id, stage, created_at, updated_at,
        LAG(stage) OVER (PARTITION BY deal_id ORDER BY updated_at) AS stage_before,
        ROW_NUMBER() OVER (PARTITION BY deal_id ORDER BY updated_at) AS version_number,
        MAX(updated_at) OVER (PARTITION BY deal_id ORDER BY updated_at ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_updated_at
    FROM versions
    WHERE tie_rank = 1
),

starts AS (
    SELECT
        deal_id, stage, updated_at, last_updated_at,
        CASE stage
            WHEN 'prospecting' THEN 1 WHEN 'qualification' THEN 2 WHEN 'proposal' THEN 3
            WHEN 'negotiation' THEN 4 ELSE 5
        END AS stage_order,
        CASE WHEN version_number = 1 THEN created_at ELSE updated_at END AS starts_at
    FROM ordered
    WHERE stage_before IS NULL OR stage_before <> stage
),

periods AS (
    SELECT
        deal_id,
        stage,
        stage_order,
        starts_at,
        LEAD(updated_at) OVER (PARTITION BY deal_id ORDER BY updated_at) AS ends_at,
        LAG(stage) OVER (PARTITION BY deal_id ORDER BY updated_at) AS previous_stage,
        LAG(stage_order) OVER (PARTITION BY deal_id ORDER BY updated_at) AS previous_order,
        ROW_NUMBER() OVER (PARTITION BY deal_id ORDER BY updated_at) AS period_number,
        -- for the funnel: the furthest stage the deal reached afterwards, other than closed_lost
        MAX(CASE WHEN stage <> 'closed_lost' THEN stage_order END) OVER (
            PARTITION BY deal_id ORDER BY updated_at ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS furthest_later_order,
        last_updated_at
    FROM starts
),

moves AS (
    SELECT
        p.*,
        -- for the funnel: the deal's first period in this stage
        ROW_NUMBER() OVER (PARTITION BY p.deal_id, p.stage ORDER BY p.period_number) AS entry_number
    FROM periods p
)

INSERT INTO gold.fact_deal_stage_history (
    deal_id, period_number, stage, stage_order, previous_stage, movement,
    valid_from, valid_to, is_current, days_in_stage, is_first_in_stage, reaches_later_stage, updated_date
)
SELECT
    deal_id,
    CAST(period_number AS INT) AS period_number,
    stage,
    stage_order,
    previous_stage,
    CASE
        WHEN previous_order IS NULL THEN 'Initial'
        WHEN stage_order < previous_order THEN 'Backward'
        ELSE 'Forward'
    END AS movement,
    {{ to_timestamp(starts_at) }} AS valid_from,
    {{ to_timestamp(COALESCE(ends_at, '9999-12-31 00:00:00.000')) }} AS valid_to,
    CASE WHEN ends_at IS NULL THEN 1 ELSE 0 END AS is_current,
    {{ days_between(starts_at, ends_at) }} AS days_in_stage,
    CASE WHEN entry_number = 1 THEN 1 ELSE 0 END AS is_first_in_stage,
    CASE WHEN furthest_later_order > stage_order THEN 1 ELSE 0 END AS reaches_later_stage,
    CAST(last_updated_at AS DATE) AS updated_date
FROM moves;
