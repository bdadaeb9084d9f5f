-- silver.crm_contact_keys: the contacts' surrogate keys. A key, once given, is never changed or taken
-- back: this model only appends the contact_ids staging holds that have none yet, numbered after the
-- largest key so far in contact_id order. So a contact keeps its key across runs, full rebuilds
-- of the other models included, and the facts' keys stay valid. (The model reads its own table.)
-- Refresh: full (an anti-join of staging's ids against this table; nothing is deleted).

WITH
new_ids AS (
    SELECT s.contact_id
    FROM silver.stg_crm_contacts s
    WHERE NOT EXISTS (SELECT 1 FROM silver.crm_contact_keys k WHERE k.contact_id = s.contact_id)
),

numbered AS (
    SELECT contact_id, ROW_NUMBER() OVER (ORDER BY contact_id) AS n
    FROM new_ids
),

largest AS (
    SELECT COALESCE(MAX(contact_key), 0) AS max_key FROM silver.crm_contact_keys
)

INSERT INTO silver.crm_contact_keys (contact_key, contact_id)
SELECT CAST(l.max_key + n.n AS INT) AS contact_key, n.contact_id
FROM numbered n
CROSS JOIN largest l;
