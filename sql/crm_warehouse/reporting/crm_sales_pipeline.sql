-- reporting.crm_sales_pipeline: Per stage: open pipeline, conversion, days in stage; win rate, won deal size and sales cycle (Sales pipeline).
-- The columns are gold.mtr_sales_pipeline's; the view is the stable contract Power BI reads.
SELECT
    stage,
    stage_order,
    open_deals,
    pipeline_value,
    weighted_value,
    deals_entered,
    deals_advanced,
    conversion_rate,
    avg_days_in_stage,
    won_deals,
    lost_deals,
    win_rate,
    avg_won_deal_size,
    median_sales_cycle_days,
    as_of_date
FROM gold.mtr_sales_pipeline
