-- reporting.crm_deal_stage_history: Every stage period of every deal with its movement (Sales pipeline).
-- The columns are gold.fact_deal_stage_history's; the view is the stable contract Power BI reads.
SELECT
    deal_id,
    period_number,
    stage,
    stage_order,
    previous_stage,
    movement,
    valid_from,
    valid_to,
    is_current,
    days_in_stage,
    is_first_in_stage,
    reaches_later_stage
FROM gold.fact_deal_stage_history
