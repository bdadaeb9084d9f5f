import { describe, expect, it } from 'vitest';
import { parameterNames, splitBatches, splitStatements, toDuckDbParameters } from '../functions/warehouse/sqlText.js';

describe('portable SQL text', () => {
  it('rewrites @params outside strings, quoted identifiers and comments', () => {
    const sql = `SELECT @a, '@not', "@col", [@br] -- @c\n/* @d */ FROM t WHERE x = @b_2 AND y = 'it''s @e'`;
    expect(toDuckDbParameters(sql)).toBe(`SELECT $a, '@not', "@col", [@br] -- @c\n/* @d */ FROM t WHERE x = $b_2 AND y = 'it''s @e'`);
    expect(parameterNames(sql)).toEqual(['a', 'b_2']);
  });

  it('splits statements at top-level semicolons only', () => {
    const sql = `DELETE FROM t WHERE a = ';'; -- a comment; with semicolons\nINSERT INTO t VALUES (1);\n/* ; */ ;\n`;
    expect(splitStatements(sql)).toEqual([`DELETE FROM t WHERE a = ';'`, `-- a comment; with semicolons\nINSERT INTO t VALUES (1)`]);
  });

  it('splits T-SQL batches at GO lines', () => {
    expect(splitBatches('CREATE A\nGO\n  go  \nCREATE B\nGOTO x')).toEqual(['CREATE A', 'CREATE B\nGOTO x']);
  });
});
