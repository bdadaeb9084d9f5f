-- reporting.crm_deal_outcomes_by_month: deals closed per calendar month of closing, as they are
-- now (a month appears once a deal closed in it) — the win rate over time, beside
-- gold.mtr_sales_pipeline's over all closed deals:
--   won_deals, lost_deals   deals now closed won / closed lost whose closed_at falls in the month
--   win_rate                won / (won + lost): gold.mtr_sales_pipeline's definition, per month
--   won_value               the amount of the deals won
--   is_partial_period       the data does not cover the whole month: it starts before the first
--                           deal was created, or ends after the CRM's as-of date
WITH
closed AS (
    SELECT
        {{ month_start(CAST(closed_at AS DATE)) }} AS month_start,
        CASE WHEN stage = 'closed_won' THEN 1 ELSE 0 END AS won,
        CASE WHEN stage = 'closed_lost' THEN 1 ELSE 0 END AS lost,
        CASE WHEN stage = 'closed_won' THEN amount ELSE 0 END AS won_amount
    FROM gold.fact_deals
    WHERE is_closed = 1
),

coverage AS (
    SELECT MIN(CAST(d.created_at AS DATE)) AS first_date, MAX(x.as_of_date) AS as_of_date
    FROM gold.fact_deals d
    CROSS JOIN silver.crm_as_of x
)

SELECT
    c.month_start,
    CAST(SUM(c.won) AS INT) AS won_deals,
    CAST(SUM(c.lost) AS INT) AS lost_deals,
    CAST({{ round_to(safe_divide(SUM(c.won), SUM(c.won) + SUM(c.lost)), 4) }} AS DECIMAL(9, 4)) AS win_rate,
    CAST(SUM(c.won_amount) AS DECIMAL(24, 2)) AS won_value,
    {{ to_bool(CASE WHEN c.month_start < v.first_date OR add_days(add_months(c.month_start, 1), -1) > v.as_of_date THEN 1 ELSE 0 END) }} AS is_partial_period
FROM closed c
CROSS JOIN coverage v
GROUP BY c.month_start, v.first_date, v.as_of_date
