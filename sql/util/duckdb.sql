-- util: the portability layer, DuckDB side. Same names and meaning as sql/util/mssql.sql.
-- Models call these instead of DATEADD / DATEDIFF / date arithmetic, which differ per engine.

-- T-SQL's timestamp type name, so models can write CAST(x AS datetime2) on both engines.
CREATE TYPE IF NOT EXISTS datetime2 AS TIMESTAMP;
GO
CREATE OR REPLACE MACRO util.add_days(d, n) AS CAST(CAST(d AS DATE) + CAST(n AS INTEGER) AS DATE);
GO
CREATE OR REPLACE MACRO util.days_between(a, b) AS CAST(CAST(b AS DATE) - CAST(a AS DATE) AS INTEGER);
GO
CREATE OR REPLACE MACRO util.month_start(d) AS CAST(date_trunc('month', CAST(d AS DATE)) AS DATE);
GO
CREATE OR REPLACE MACRO util.safe_divide(a, b) AS CASE WHEN b IS NULL OR b = 0 THEN NULL ELSE CAST(a AS DOUBLE) / CAST(b AS DOUBLE) END;
