-- gold.dim_contacts: contacts as they are now (Type 1), one row per contact with its surrogate
-- key (silver.crm_contact_keys), its account's key and name, and seniority_level derived from the
-- job title; plus the unknown member (key -1).
--   seniority_level: the first that matches, as whole words, case-insensitively:
--     VP                      vp, svp, evp, avp, vice president
--     C-level                 chief, ceo, cfo, coo, cto, cio, cmo, cro, president, founder, owner
--     Director                director, head
--     Manager                 manager, supervisor, lead
--     Individual contributor  any other title
--     Unknown                 no title
-- Refresh: by change date: the contacts staging changed in @date_from..@date_to, and the contacts
-- of accounts that changed then (their account name; an account that arrives late gets its key),
-- and the unknown member, always written again.

DELETE FROM gold.dim_contacts
WHERE contact_key = -1
   OR updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR contact_id IN (
        SELECT c.contact_id FROM silver.stg_crm_contacts c
        WHERE c.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
           OR c.account_id IN (SELECT a.account_id FROM silver.stg_crm_accounts a WHERE a.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)));

WITH
titled AS (
    SELECT
        c.*,
        -- the title as ' word word ': punctuation to spaces, so '% ceo %' matches whole words only
        -- ('Director' holds the letters of 'cto')
        CONCAT(' ', LOWER(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(c.job_title, ',', ' '), '/', ' '), '-', ' '), '&', ' '), '.', ' '), '(', ' ')), ' ') AS t
    FROM silver.stg_crm_contacts c
    WHERE c.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
       OR c.account_id IN (SELECT a.account_id FROM silver.stg_crm_accounts a WHERE a.updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE))
),

contacts AS (
    SELECT
        k.contact_key,
        c.contact_id,
        COALESCE(ak.account_key, -1) AS account_key,
        c.account_id,
        COALESCE(a.account_name, 'Unknown account') AS account_name,
        c.first_name,
        c.last_name,
        c.full_name,
        c.email,
        c.job_title,
        CASE
            WHEN c.job_title IS NULL OR TRIM(c.job_title) = '' THEN 'Unknown'
            WHEN c.t LIKE '% vp %' OR c.t LIKE '% svp %' OR c.t LIKE '% evp %' OR c.t LIKE '% avp %' OR c.t LIKE '% vice president %' THEN 'VP'
            WHEN c.t LIKE '% chief %' OR c.t LIKE '% ceo %' OR c.t LIKE '% cfo %' OR c.t LIKE '% coo %' OR c.t LIKE '% cto %'
              OR c.t LIKE '% cio %' OR c.t LIKE '% cmo %' OR c.t LIKE '% cro %' OR c.t LIKE '% president %'
              OR c.t LIKE '% founder %' OR c.t LIKE '% owner %' THEN 'C-level'
            WHEN c.t LIKE '% director %' OR c.t LIKE '% head %' THEN 'Director'
            WHEN c.t LIKE '% manager %' OR c.t LIKE '% supervisor %' OR c.t LIKE '% lead %' THEN 'Manager'
            ELSE 'Individual contributor'
        END AS seniority_level,
        COALESCE(c.gender, 'Unknown') AS gender,
        COALESCE(c.income_segment, 'Unknown') AS income_segment,
        c.created_at,
        c.updated_at,
        c.updated_date
    FROM titled c
    JOIN silver.crm_contact_keys k ON k.contact_id = c.contact_id
    LEFT JOIN silver.stg_crm_accounts a ON a.account_id = c.account_id
    LEFT JOIN silver.crm_account_keys ak ON ak.account_id = a.account_id
)

INSERT INTO gold.dim_contacts (
    contact_key, contact_id, account_key, account_id, account_name, first_name, last_name, full_name,
    email, job_title, seniority_level, gender, income_segment, created_at, updated_at, updated_date
)
SELECT
    contact_key, contact_id, account_key, account_id, account_name, first_name, last_name, full_name,
    email, job_title, seniority_level, gender, income_segment, created_at, updated_at, updated_date
FROM contacts
UNION ALL
SELECT -1, NULL, -1, NULL, 'Unknown account', NULL, NULL, 'Unknown contact', NULL, NULL, 'Unknown', 'Unknown', 'Unknown', NULL, NULL, NULL;
