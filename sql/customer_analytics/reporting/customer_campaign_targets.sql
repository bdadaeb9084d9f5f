-- reporting.customer_campaign_targets: the contact list: one campaign per customer at most, with
-- priority, reason, estimated value, and who the customer is.
SELECT
    t.customer_id, t.as_of_date, t.campaign, t.priority, t.reason, t.estimated_value, t.segment,
    t.churn_risk_score, t.lifetime_value, c.first_name, c.last_name, c.email, c.state, c.city
FROM gold.campaign_targets t
LEFT JOIN gold.dim_customer c
    ON c.customer_id = t.customer_id
   AND c.is_current = 1
