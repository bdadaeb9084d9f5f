-- reporting.crm_customer_segments: Contacts, support engagement, tickets and revenue by income segment × gender × account revenue segment (Customer Insights and Segmentation).
-- The columns are gold.mtr_customer_segment_summary's; the view is the stable contract Power BI reads.
SELECT
    income_segment,
    gender,
    revenue_segment,
    contacts,
    support_engaged_contacts,
    tickets,
    orders,
    revenue,
    revenue_per_contact
FROM gold.mtr_customer_segment_summary
