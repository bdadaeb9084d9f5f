-- reporting.crm_contacts: The contact dimension: current attributes, seniority level, account; key -1 is the unknown contact.
-- The columns are gold.dim_contacts's; the view is the stable contract Power BI reads.
SELECT
    contact_key,
    contact_id,
    account_key,
    account_id,
    account_name,
    first_name,
    last_name,
    full_name,
    email,
    job_title,
    seniority_level,
    gender,
    income_segment,
    created_at,
    updated_at
FROM gold.dim_contacts
