-- silver.stg_crm_tickets: one row per ticket, its latest version, typed, with the hours to the
-- first response and to resolution (to the millisecond; NULL until they happen).
-- Which version: the latest updated_at; on a tie the file ingested last, then the later file
-- name, then the later line (see stg_crm_accounts).
-- Refresh: by change date: tickets with a version updated in @date_from..@date_to are derived
-- again from all their versions.

DELETE FROM silver.stg_crm_tickets
WHERE updated_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE)
   OR ticket_id IN (
        SELECT changed.ticket_id FROM bronze.crm_tickets changed
        WHERE changed.updated_at >= @date_from AND changed.updated_at < CONCAT(@date_to, '~')
          AND changed._bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_tickets' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE)));

WITH
changed AS (
    SELECT DISTINCT ticket_id
    FROM bronze.crm_tickets
    WHERE updated_at >= @date_from AND updated_at < CONCAT(@date_to, '~')
      AND _bronze_file IN (SELECT f.bronze_file FROM ops.loaded_files f WHERE f.source = 'crm_tickets' AND f.min_date <= CAST(@date_to AS DATE) AND f.max_date >= CAST(@date_from AS DATE))
),

versions AS (
    SELECT
        b.ticket_id, b.account_id, b.contact_id, b.channel, b.issue_type, b.priority, b.status,
        b.created_at, b.first_response_at, b.resolved_at, b.csat_score, b.updated_at, b._source_file, b._row_number,
        ROW_NUMBER() OVER (
            PARTITION BY b.ticket_id
            ORDER BY b.updated_at DESC, b._ingested_at DESC, b._source_file DESC, b._row_number DESC
        ) AS version_rank
    FROM bronze.crm_tickets b
    WHERE b.ticket_id IN (SELECT ticket_id FROM changed)
),

typed AS (
    SELECT
        ticket_id, account_id, contact_id, channel, issue_type, priority, status,
        {{ to_timestamp(created_at) }} AS created_at,
        {{ to_timestamp(first_response_at) }} AS first_response_at,
        {{ to_timestamp(resolved_at) }} AS resolved_at,
        CAST(csat_score AS INT) AS csat_score,
        updated_at, _source_file, _row_number
    FROM versions
    WHERE version_rank = 1
)

INSERT INTO silver.stg_crm_tickets (
    ticket_id, account_id, contact_id, channel, issue_type, priority, status,
    created_at, first_response_at, resolved_at, first_response_hours, resolution_hours, csat_score,
    updated_at, updated_date, _source_file, _row_number
)
SELECT
    ticket_id,
    account_id,
    contact_id,
    channel,
    issue_type,
    priority,
    status,
    created_at,
    first_response_at,
    resolved_at,
    {{ hours_between(created_at, first_response_at) }} AS first_response_hours,
    {{ hours_between(created_at, resolved_at) }} AS resolution_hours,
    csat_score,
    {{ to_timestamp(updated_at) }} AS updated_at,
    CAST(updated_at AS DATE) AS updated_date,
    _source_file,
    _row_number
FROM typed;
