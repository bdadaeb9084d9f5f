-- gold.mtr_customer_segment_summary: contacts by income segment × gender × their account's
-- revenue segment (every combination that has contacts; 'Unknown' where a value is missing), so
-- any slice Power BI takes adds up:
--   contacts                  contacts in the segment (gold.dim_contacts)
--   support_engaged_contacts  of them, those who raised at least one ticket
--   tickets                   tickets they raised
--   orders, revenue           orders they placed and their revenue (orders that count as revenue;
--                             an order without a contact is in no segment)
--   revenue_per_contact       revenue / contacts
-- Refresh: full.

DELETE FROM gold.mtr_customer_segment_summary;

WITH
contacts AS (
    SELECT c.contact_key, c.income_segment, c.gender, a.revenue_segment
    FROM gold.dim_contacts c
    JOIN gold.dim_accounts a ON a.account_key = c.account_key
    WHERE c.contact_key <> -1
),

tickets AS (
    SELECT contact_key, COUNT(*) AS tickets
    FROM gold.fact_tickets
    WHERE contact_key <> -1
    GROUP BY contact_key
),

orders AS (
    SELECT contact_key, COUNT(*) AS orders, SUM(revenue) AS revenue
    FROM gold.fact_orders
    WHERE contact_key <> -1 AND counts_as_revenue = 1
    GROUP BY contact_key
)

INSERT INTO gold.mtr_customer_segment_summary (
    income_segment, gender, revenue_segment, contacts, support_engaged_contacts, tickets, orders,
    revenue, revenue_per_contact
)
SELECT
    c.income_segment,
    c.gender,
    c.revenue_segment,
    CAST(COUNT(*) AS INT) AS contacts,
    CAST(COUNT(t.contact_key) AS INT) AS support_engaged_contacts,
    CAST(COALESCE(SUM(t.tickets), 0) AS INT) AS tickets,
    CAST(COALESCE(SUM(o.orders), 0) AS INT) AS orders,
    CAST(COALESCE(SUM(o.revenue), 0) AS DECIMAL(24, 2)) AS revenue,
    CAST({{ round_to(safe_divide(COALESCE(SUM(o.revenue), 0), COUNT(*)), 2) }} AS DECIMAL(18, 2)) AS revenue_per_contact
FROM contacts c
LEFT JOIN tickets t ON t.contact_key = c.contact_key
LEFT JOIN orders o ON o.contact_key = c.contact_key
GROUP BY c.income_segment, c.gender, c.revenue_segment;
