-- util: the portability layer, T-SQL side. Same names and meaning as sql/util/duckdb.sql.
-- Each function stands alone in its batch (CREATE FUNCTION must be the only statement).

CREATE OR ALTER FUNCTION util.add_days(@d DATE, @n INT) RETURNS DATE
WITH SCHEMABINDING AS
BEGIN
    RETURN DATEADD(day, @n, @d);
END
GO
CREATE OR ALTER FUNCTION util.days_between(@a DATE, @b DATE) RETURNS INT
WITH SCHEMABINDING AS
BEGIN
    RETURN DATEDIFF(day, @a, @b);
END
GO
CREATE OR ALTER FUNCTION util.month_start(@d DATE) RETURNS DATE
WITH SCHEMABINDING AS
BEGIN
    RETURN DATEFROMPARTS(YEAR(@d), MONTH(@d), 1);
END
GO
CREATE OR ALTER FUNCTION util.safe_divide(@a FLOAT, @b FLOAT) RETURNS FLOAT
WITH SCHEMABINDING AS
BEGIN
    RETURN CASE WHEN @b IS NULL OR @b = 0 THEN NULL ELSE @a / @b END;
END
