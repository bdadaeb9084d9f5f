-- silver.crm_account_keys: the accounts' surrogate keys. A key, once given, is never changed or taken
-- back: this model only appends the account_ids staging holds that have none yet, numbered after the
-- largest key so far in account_id order. So a account keeps its key across runs, full rebuilds
-- of the other models included, and the facts' keys stay valid. (The model reads its own table.)
-- Refresh: full (an anti-join of staging's ids against this table; nothing is deleted).

WITH
new_ids AS (
    SELECT s.account_id
    FROM silver.stg_crm_accounts s
    WHERE NOT EXISTS (SELECT 1 FROM silver.crm_account_keys k WHERE k.account_id = s.account_id)
),

numbered AS (
    SELECT account_id, ROW_NUMBER() OVER (ORDER BY account_id) AS n
    FROM new_ids
),

largest AS (
    SELECT COALESCE(MAX(account_key), 0) AS max_key FROM silver.crm_account_keys
)

INSERT INTO silver.crm_account_keys (account_key, account_id)
SELECT CAST(l.max_key + n.n AS INT) AS account_key, n.account_id
FROM numbered n
CROSS JOIN largest l;
