-- gold.fact_deals: one row per deal as it is now, keyed to its account and contact (the unknown
-- member, -1, when it names none or one not received yet), with:
--   weighted_amount   amount × probability %, to the cent
--   days_open         calendar days from creation to closing, or to the as-of date while open
--   sales_cycle_days  calendar days from creation to closing; NULL while open
--   stage_changes     stage periods in its history, less one
-- Refresh: by change date: the deals staging changed in @date_from..@date_to, and the deals with any
-- version written then (a late version changes the history), are rebuilt; then days_open and
-- is_overdue of every open deal are brought up to the as-of date, and rows keyed to an unknown
-- account or contact that has since arrived get its key.

DELETE FROM gold.fact_deals
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR deal_id IN (
        SELECT s.deal_id FROM silver.stg_crm_deals s
        WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
           OR s.deal_id IN (
                SELECT b.deal_id FROM bronze.crm_deals b
                WHERE b.updated_at >= @date_from AND b.updated_at < CONCAT(@date_to, '~')
                  AND b._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_deals' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))));

WITH
touched AS (
    -- changed in the range
    SELECT DISTINCT s.deal_id FROM silver.stg_crm_deals s
    WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
       -- a late version changes the stage history (and so stage_changes) without changing the latest one
       OR s.deal_id IN (
            SELECT b.deal_id FROM bronze.crm_deals b
            WHERE b.updated_at >= @date_from AND b.updated_at < CONCAT(@date_to, '~')
              AND b._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_deals' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)))
),

history AS (
    SELECT h.deal_id, COUNT(*) - 1 AS stage_changes
    FROM gold.fact_deal_stage_history h
    WHERE h.deal_id IN (SELECT deal_id FROM touched)
    GROUP BY h.deal_id
)

INSERT INTO gold.fact_deals (
    deal_id, account_key, contact_key, account_id, contact_id, deal_name, stage, amount, probability,
    weighted_amount, expected_close_date, owner, created_at, closed_at, is_closed, is_won, is_overdue,
    days_open, sales_cycle_days, stage_changes, created_date_key, closed_date_key, updated_date
)
SELECT
    d.deal_id,
    COALESCE(a.account_key, -1) AS account_key,
    COALESCE(c.contact_key, -1) AS contact_key,
    d.account_id,
    d.contact_id,
    d.deal_name,
    d.stage,
    d.amount,
    d.probability,
    -- × 0.01, not / 100: decimal arithmetic on both engines, then rounded half away from zero
    CAST(ROUND(d.amount * d.probability * 0.01, 2) AS DECIMAL(14, 2)) AS weighted_amount,
    d.expected_close_date,
    d.owner,
    d.created_at,
    d.closed_at,
    d.is_closed,
    d.is_won,
    d.is_overdue,
    {{ days_between(d.created_at, COALESCE(CAST(d.closed_at AS DATE), x.as_of_date)) }} AS days_open,
    {{ days_between(d.created_at, d.closed_at) }} AS sales_cycle_days,
    CAST(COALESCE(h.stage_changes, 0) AS INT) AS stage_changes,
    {{ date_key(CAST(d.created_at AS DATE)) }} AS created_date_key,
    {{ date_key(CAST(d.closed_at AS DATE)) }} AS closed_date_key,
    d.updated_date
FROM silver.stg_crm_deals d
LEFT JOIN gold.dim_accounts a ON a.account_id = d.account_id
LEFT JOIN gold.dim_contacts c ON c.contact_id = d.contact_id
LEFT JOIN history h ON h.deal_id = d.deal_id
CROSS JOIN silver.crm_as_of x
-- changed in the range, or a late version changed its history
WHERE d.deal_id IN (SELECT deal_id FROM touched);

UPDATE gold.fact_deals
SET days_open = {{ days_between(created_at, (SELECT as_of_date FROM silver.crm_as_of)) }},
    is_overdue = CASE WHEN expected_close_date < (SELECT as_of_date FROM silver.crm_as_of) THEN 1 ELSE 0 END
WHERE is_closed = 0;

-- a parent that arrived after its rows: they get its key (keys never change once given)
UPDATE gold.fact_deals
-- (the dimension's id renamed in a derived table, so the bare id below is this table's, on both engines)
SET account_key = (SELECT d.account_key FROM (SELECT account_key, account_id AS known_id FROM gold.dim_accounts) d WHERE d.known_id = account_id)
WHERE account_key = -1
  AND account_id IN (SELECT known.account_id FROM gold.dim_accounts known);

UPDATE gold.fact_deals
SET contact_key = (SELECT d.contact_key FROM (SELECT contact_key, contact_id AS known_id FROM gold.dim_contacts) d WHERE d.known_id = contact_id)
WHERE contact_key = -1
  AND contact_id IN (SELECT known.contact_id FROM gold.dim_contacts known);
