-- gold.fact_company_activity_daily: one row per company per calendar day, dense from the
-- company's first appearance (CRM or usage) to the latest ingested activity date.
-- Refresh: by activity date, @date_from to @date_to; rows before @date_from are read (not
-- written) so the rolling windows see their full @lookback_days.
--   @contact_window_days  churn: no CRM contact in this many days before the activity date
--   {{churn_frame_preceding}}  churn: CHURN_INACTIVE_DAYS - 1 (window frames take literals only)

DELETE FROM gold.fact_company_activity_daily
WHERE activity_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE);

WITH
last_ingested AS (
    SELECT MAX(activity_date) AS last_date
    FROM silver.fact_company_usage_daily
),

first_seen AS (
    SELECT company_id, MIN(first_date) AS first_date
    FROM (
        SELECT company_id, MIN(valid_from) AS first_date FROM silver.dim_company GROUP BY company_id
        UNION ALL
        SELECT company_id, MIN(activity_date) AS first_date FROM silver.fact_company_usage_daily GROUP BY company_id
    ) appearances
    GROUP BY company_id
),

-- company × calendar day: a day without usage is a row of zeros, so windows count days, not rows
grid AS (
    SELECT f.company_id, cal.calendar_date AS activity_date
    FROM first_seen f
    JOIN silver.dim_calendar cal ON cal.calendar_date >= f.first_date
    CROSS JOIN last_ingested li
    WHERE cal.calendar_date <= li.last_date
      AND cal.calendar_date BETWEEN {{ add_days(@date_from, 0 - @lookback_days) }} AND CAST(@date_to AS DATE)
),

daily AS (
    SELECT
        g.company_id,
        g.activity_date,
        COALESCE(u.active_users, 0) AS active_users,
        COALESCE(u.events, 0) AS events
    FROM grid g
    LEFT JOIN silver.fact_company_usage_daily u
        ON u.company_id = g.company_id
       AND u.activity_date = g.activity_date
),

rolling AS (
    SELECT
        company_id,
        activity_date,
        active_users,
        events,
        SUM(active_users) OVER (PARTITION BY company_id ORDER BY activity_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS active_users_7d,
        SUM(events) OVER (PARTITION BY company_id ORDER BY activity_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS events_7d,
        SUM(active_users) OVER (PARTITION BY company_id ORDER BY activity_date ROWS BETWEEN {{churn_frame_preceding}} PRECEDING AND CURRENT ROW) AS active_users_churn_window
    FROM daily
)

INSERT INTO gold.fact_company_activity_daily (
    activity_date, company_id, company_name, country, industry_tag, last_contact_at,
    active_users, events, active_users_7d, events_7d, is_churn_risk
)
SELECT
    r.activity_date,
    r.company_id,
    -- CRM attributes as known on the day (the SCD2 version valid then; NULL before the first snapshot)
    c.company_name,
    c.country,
    c.industry_tag,
    c.last_contact_at,
    r.active_users,
    r.events,
    r.active_users_7d,
    r.events_7d,
    CASE
        WHEN r.active_users_churn_window = 0
         AND (c.last_contact_at IS NULL OR c.last_contact_at < {{ add_days(r.activity_date, 0 - @contact_window_days) }})
        THEN 1 ELSE 0
    END AS is_churn_risk
FROM rolling r
LEFT JOIN silver.dim_company c
    ON c.company_id = r.company_id
   AND r.activity_date >= c.valid_from
   AND r.activity_date < c.valid_to
WHERE r.activity_date BETWEEN CAST(@date_from AS DATE) AND CAST(@date_to AS DATE);
