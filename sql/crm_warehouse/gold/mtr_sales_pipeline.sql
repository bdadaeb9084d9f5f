-- gold.mtr_sales_pipeline: one row per deal stage (all six, in stage order), as of the CRM's as-of date:
--   open_deals, pipeline_value, weighted_value  open deals now in the stage, their amount and
--                              weighted amount (closed stages: 0)
--   deals_entered              deals that were ever in the stage (gold.fact_deal_stage_history)
--   deals_advanced             of them, those that later reached a later stage other than
--                              closed_lost (a later open stage, or won)
--   conversion_rate            advanced / entered (NULL for the closed stages)
--   avg_days_in_stage          mean calendar days of the stage's finished periods
-- and, the same on every row (pipeline-wide, for cards):
--   won_deals, lost_deals, win_rate  won / (won + lost), over deals closed now
--   avg_won_deal_size          mean amount of the won deals
--   median_sales_cycle_days    median calendar days from creation to closing of the won deals
-- Refresh: full.

DELETE FROM gold.mtr_sales_pipeline;

WITH
stages AS (
    SELECT stage, stage_order FROM (VALUES
        ('prospecting', 1), ('qualification', 2), ('proposal', 3), ('negotiation', 4), ('closed_won', 5), ('closed_lost', 6)
    ) AS s (stage, stage_order)
),

open_deals AS (
    SELECT stage, COUNT(*) AS open_deals, SUM(amount) AS pipeline_value, SUM(weighted_amount) AS weighted_value
    FROM gold.fact_deals
    WHERE is_closed = 0
    GROUP BY stage
),

funnel AS (
    -- each deal's first period in a stage, and whether it reached a later stage afterwards
    SELECT stage, COUNT(*) AS deals_entered, SUM(CASE WHEN reaches_later_stage = 1 THEN 1 ELSE 0 END) AS deals_advanced
    FROM gold.fact_deal_stage_history
    WHERE is_first_in_stage = 1
    GROUP BY stage
),

durations AS (
    SELECT stage, AVG({{ to_double(days_in_stage) }}) AS avg_days_in_stage
    FROM gold.fact_deal_stage_history
    WHERE days_in_stage IS NOT NULL
    GROUP BY stage
),

won_cycles AS (
    SELECT {{ percentile_cont(0.5, sales_cycle_days) }} AS median_cycle
    FROM gold.fact_deals
    WHERE is_won = 1
),

outcomes AS (
    SELECT
        SUM(CASE WHEN stage = 'closed_won' THEN 1 ELSE 0 END) AS won_deals,
        SUM(CASE WHEN stage = 'closed_lost' THEN 1 ELSE 0 END) AS lost_deals,
        AVG(CASE WHEN stage = 'closed_won' THEN {{ to_double(amount) }} END) AS avg_won_deal_size,
        MAX(x.as_of_date) AS as_of_date
    FROM gold.fact_deals
    CROSS JOIN silver.crm_as_of x
)

INSERT INTO gold.mtr_sales_pipeline (
    stage, stage_order, open_deals, pipeline_value, weighted_value, deals_entered, deals_advanced,
    conversion_rate, avg_days_in_stage, won_deals, lost_deals, win_rate, avg_won_deal_size,
    median_sales_cycle_days, as_of_date
)
SELECT
    s.stage,
    s.stage_order,
    CAST(COALESCE(o.open_deals, 0) AS INT) AS open_deals,
    CAST(COALESCE(o.pipeline_value, 0) AS DECIMAL(24, 2)) AS pipeline_value,
    CAST(COALESCE(o.weighted_value, 0) AS DECIMAL(24, 2)) AS weighted_value,
    CAST(COALESCE(f.deals_entered, 0) AS INT) AS deals_entered,
    CAST(COALESCE(f.deals_advanced, 0) AS INT) AS deals_advanced,
    CASE WHEN s.stage_order <= 4 THEN CAST({{ round_to(safe_divide(f.deals_advanced, f.deals_entered), 4) }} AS DECIMAL(9, 4)) END AS conversion_rate,
    CAST({{ round_to(d.avg_days_in_stage, 2) }} AS DECIMAL(10, 2)) AS avg_days_in_stage,
    CAST(COALESCE(r.won_deals, 0) AS INT) AS won_deals,
    CAST(COALESCE(r.lost_deals, 0) AS INT) AS lost_deals,
    CAST({{ round_to(safe_divide(r.won_deals, r.won_deals + r.lost_deals), 4) }} AS DECIMAL(9, 4)) AS win_rate,
    CAST({{ round_to(r.avg_won_deal_size, 2) }} AS DECIMAL(18, 2)) AS avg_won_deal_size,
    CAST({{ round_to((SELECT MAX(median_cycle) FROM won_cycles), 2) }} AS DECIMAL(10, 2)) AS median_sales_cycle_days,
    r.as_of_date
FROM stages s
CROSS JOIN outcomes r
LEFT JOIN open_deals o ON o.stage = s.stage
LEFT JOIN funnel f ON f.stage = s.stage
LEFT JOIN durations d ON d.stage = s.stage;
