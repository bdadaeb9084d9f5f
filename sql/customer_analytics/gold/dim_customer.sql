-- gold.dim_customer: one row per customer version (SCD type 2), valid_from inclusive, valid_to
-- exclusive, the current one flagged. The key comes from silver.customer_keys and never changes.
-- Every customer starts with a minimal version from 1900-01-01 (attributes unknown): until its
-- first record for a customer with records, for ever for a customer seen only in transactions.
-- Refresh: full (small).

DELETE FROM gold.dim_customer;

WITH
live_keys AS (
    -- the keys of versions that exist now (a later file can merge two versions; its old key stays unused)
    SELECT k.customer_key, k.customer_id, k.valid_from
    FROM silver.customer_keys k
    WHERE k.valid_from = CAST('1900-01-01' AS DATE)
       OR EXISTS (
           SELECT 1 FROM silver.customer_versions v
           WHERE v.customer_id = k.customer_id AND v.valid_from = k.valid_from
       )
),

versions AS (
    SELECT
        k.customer_key,
        k.customer_id,
        k.valid_from,
        LEAD(k.valid_from) OVER (PARTITION BY k.customer_id ORDER BY k.valid_from) AS next_valid_from,
        v.first_name,
        v.last_name,
        v.email,
        v.age,
        v.state,
        v.city,
        v.employment_status,
        v.card_type,
        v.credit_limit,
        v.account_open_date,
        v.customer_segment,
        v.decline_type,
        v.updated_at,
        CASE WHEN v.customer_id IS NULL THEN 1 ELSE 0 END AS is_minimal
    FROM live_keys k
    LEFT JOIN silver.customer_versions v
        ON v.customer_id = k.customer_id
       AND v.valid_from = k.valid_from
)

INSERT INTO gold.dim_customer (
    customer_key, customer_id, valid_from, valid_to, is_current, is_minimal,
    first_name, last_name, email, age, state, city, employment_status, card_type, credit_limit,
    account_open_date, customer_segment, decline_type, updated_at
)
SELECT
    customer_key,
    customer_id,
    valid_from,
    COALESCE(next_valid_from, CAST('9999-12-31' AS DATE)) AS valid_to,
    CASE WHEN next_valid_from IS NULL THEN 1 ELSE 0 END AS is_current,
    is_minimal,
    first_name,
    last_name,
    email,
    age,
    state,
    city,
    employment_status,
    card_type,
    credit_limit,
    account_open_date,
    customer_segment,
    decline_type,
    updated_at
FROM versions;
