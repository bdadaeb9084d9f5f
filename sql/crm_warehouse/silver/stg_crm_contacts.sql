-- silver.stg_crm_contacts: one row per contact, its latest version, typed, with its full name.
-- Which version: the latest updated_at; on a tie the file ingested last, then the later file
-- name, then the later line (as every CRM staging model; see stg_crm_accounts).
-- Refresh: by change date: contacts with a version updated in @date_from..@date_to are derived
-- again from all their versions. An account_id no account row has (yet) stays: its parent may
-- come in a later file (the relationships test reports it).

DELETE FROM silver.stg_crm_contacts
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR contact_id IN (
        SELECT changed.contact_id FROM bronze.crm_contacts changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_contacts' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT contact_id
    FROM bronze.crm_contacts
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_contacts' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

versions AS (
    SELECT
        b.contact_id, b.account_id, b.first_name, b.last_name, b.email, b.job_title, b.gender,
        b.income_segment, b.created_at, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.contact_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_contacts b
    WHERE b.contact_id IN (SELECT contact_id FROM changed)
)

INSERT INTO silver.stg_crm_contacts (
    contact_id, account_id, first_name, last_name, full_name, email, job_title, gender, income_segment,
    created_at, updated_at, updated_date, _source_file, _row_number
)
SELECT
    contact_id,
    account_id,
    first_name,
    last_name,
    -- CONCAT reads NULL as empty on both engines: "Ada" when there is no last name
    TRIM(CONCAT(first_name, ' ', last_name)) AS full_name,
    email,
    job_title,
    gender,
    income_segment,
    {{ to_timestamp(created_at) }} AS created_at,
    {{ to_timestamp(updated_at) }} AS updated_at,
    CAST(updated_at AS DATE) AS updated_date,
    _source_file,
    _row_number
FROM versions
WHERE version_rank = 1;
