-- gold.fact_activities: one row per activity, keyed to its account and contact (-1: none, or not
-- received yet), with date keys (yyyymmdd) and its state:
--   is_completed  it has a completed_at
--   is_overdue    not completed, and due before the CRM's as-of moment
-- Refresh: by change date: the activities staging changed in @date_from..@date_to are rebuilt;
-- then is_overdue is brought up to the as-of moment where it changes, and rows keyed to an unknown
-- account or contact that has since arrived get its key.

DELETE FROM gold.fact_activities
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR activity_id IN (
        SELECT s.activity_id FROM silver.stg_crm_activities s
        WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE));

INSERT INTO gold.fact_activities (
    activity_id, activity_type, account_key, contact_key, account_id, contact_id, deal_id, owner,
    activity_at, due_at, completed_at, is_completed, is_overdue,
    activity_date_key, due_date_key, completed_date_key, updated_date
)
SELECT
    s.activity_id,
    s.activity_type,
    COALESCE(a.account_key, -1) AS account_key,
    COALESCE(c.contact_key, -1) AS contact_key,
    s.account_id,
    s.contact_id,
    s.deal_id,
    s.owner,
    s.activity_at,
    s.due_at,
    s.completed_at,
    s.is_completed,
    CASE WHEN s.is_completed = 0 AND s.due_at < x.as_of_at THEN 1 ELSE 0 END AS is_overdue,
    {{ date_key(CAST(s.activity_at AS DATE)) }} AS activity_date_key,
    {{ date_key(CAST(s.due_at AS DATE)) }} AS due_date_key,
    {{ date_key(CAST(s.completed_at AS DATE)) }} AS completed_date_key,
    s.updated_date
FROM silver.stg_crm_activities s
LEFT JOIN gold.dim_accounts a ON a.account_id = s.account_id
LEFT JOIN gold.dim_contacts c ON c.contact_id = s.contact_id
CROSS JOIN silver.crm_as_of x
-- changed in the range
WHERE s.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE);

UPDATE gold.fact_activities
SET is_overdue = CASE WHEN due_at < (SELECT as_of_at FROM silver.crm_as_of) THEN 1 ELSE 0 END
WHERE is_completed = 0
  AND due_at IS NOT NULL
  AND is_overdue <> CASE WHEN due_at < (SELECT as_of_at FROM silver.crm_as_of) THEN 1 ELSE 0 END;

-- a parent that arrived after its rows: they get its key (keys never change once given)
UPDATE gold.fact_activities
-- (the dimension's id renamed in a derived table, so the bare id below is this table's, on both engines)
SET account_key = (SELECT d.account_key FROM (SELECT account_key, account_id AS known_id FROM gold.dim_accounts) d WHERE d.known_id = account_id)
WHERE account_key = -1
  AND account_id IN (SELECT known.account_id FROM gold.dim_accounts known);

UPDATE gold.fact_activities
SET contact_key = (SELECT d.contact_key FROM (SELECT contact_key, contact_id AS known_id FROM gold.dim_contacts) d WHERE d.known_id = contact_id)
WHERE contact_key = -1
  AND contact_id IN (SELECT known.contact_id FROM gold.dim_contacts known);
