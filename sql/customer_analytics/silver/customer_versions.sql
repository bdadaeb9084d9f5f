-- silver.customer_versions: the customer attributes from every customers file, as versions
-- (SCD type 2 before keys): a version starts on the UTC date of the first updated_at whose
-- attributes differ from the customer's previous ones, and runs until the next version starts.
-- Several rows of one customer on one day: the latest updated_at of the day wins; for the same
-- updated_at, the latest ingested file, then its last line.
-- Refresh: full (one row per version: small; a late file can split any version).

DELETE FROM silver.customer_versions;

WITH
ranked AS (
    SELECT
        customer_id,
        CAST({{ to_timestamp(updated_at) }} AS DATE) AS update_date,
        {{ to_timestamp(updated_at) }} AS updated_at,
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
        _source_file,
        _row_number,
        ROW_NUMBER() OVER (
            PARTITION BY customer_id, CAST({{ to_timestamp(updated_at) }} AS DATE)
            ORDER BY {{ to_timestamp(updated_at) }} DESC, _ingested_at DESC, _source_file DESC, _row_number DESC
        ) AS day_rank
    FROM bronze.customers
),

daily AS (
    SELECT
        r.*,
        -- the attributes as one comparable text; '~' stands for NULL (bronze values are trimmed text)
        CONCAT(
            COALESCE(first_name, '~'), '|', COALESCE(last_name, '~'), '|', COALESCE(email, '~'), '|',
            COALESCE(age, '~'), '|', COALESCE(state, '~'), '|', COALESCE(city, '~'), '|',
            COALESCE(employment_status, '~'), '|', COALESCE(card_type, '~'), '|', COALESCE(credit_limit, '~'), '|',
            COALESCE(account_open_date, '~'), '|', COALESCE(customer_segment, '~'), '|', COALESCE(decline_type, '~')
        ) AS attributes
    FROM ranked r
    WHERE day_rank = 1
),

changes AS (
    SELECT
        d.*,
        CASE WHEN LAG(attributes) OVER (PARTITION BY customer_id ORDER BY update_date) = attributes THEN 0 ELSE 1 END AS starts_version
    FROM daily d
)

INSERT INTO silver.customer_versions (
    customer_id, valid_from, first_name, last_name, email, age, state, city, employment_status,
    card_type, credit_limit, account_open_date, customer_segment, decline_type, updated_at,
    _source_file, _row_number
)
SELECT
    customer_id,
    update_date AS valid_from,
    first_name,
    last_name,
    email,
    CAST(age AS INT) AS age,
    state,
    city,
    employment_status,
    card_type,
    CAST(credit_limit AS DECIMAL(12, 2)) AS credit_limit,
    CAST(account_open_date AS DATE) AS account_open_date,
    customer_segment,
    decline_type,
    updated_at,
    _source_file,
    _row_number
FROM changes
WHERE starts_version = 1;
