/**
 * The bronze table of a CSV source, derived from its contract: every declared column as text (the
 * canonical text the ingester wrote: trimmed, timestamps in UTC), the columns outside the contract
 * as JSON in `_extra_columns`, and the lineage every bronze row carries. Declaring the contract
 * declares the table, so the two cannot disagree.
 */
import { BRONZE_LINEAGE, col, req, string, type ColumnDef, type TableDef } from '../warehouse/catalog.js';
import type { ColumnSpecs, ColumnType, SourceContract } from './contract.js';

/** Canonical text of a number, a date, a timestamp or a boolean is short. */
const NON_TEXT_LENGTH = 64;

/**
 * The bronze column's length in UTF-16 units (NVARCHAR(n) counts those): a contract counts text in
 * code points, each up to two units, so text(n) needs 2n; an enum's longest value likewise.
 */
function textLength(type: ColumnType): number {
  if (type.kind === 'text') return 2 * type.maxLength;
  if (type.kind === 'enum') return Math.max(NON_TEXT_LENGTH, 2 * Math.max(...type.values.map((v) => v.length)));
  return NON_TEXT_LENGTH;
}

export function csvBronzeTable<C extends ColumnSpecs<Ctx>, Ctx>(contract: SourceContract<C, Ctx>, businessDate?: keyof C & string): TableDef {
  const columns: ColumnDef[] = Object.entries(contract.columns).map(([name, spec]) => {
    // an absent optional column without a default lands as null, like an allowed empty value
    const mayBeNull = spec.nullable === true || (spec.optional === true && !spec.whenAbsent);
    return (mayBeNull ? col : req)(name, string(textLength(spec.type)));
  });
  return {
    schema: 'bronze',
    name: contract.source,
    description: `${contract.source} rows as uploaded (canonical text, untyped), extra columns as JSON, with lineage.`,
    columns: [...columns, col('_extra_columns', string()), ...BRONZE_LINEAGE],
    ...(businessDate ? { source: { businessDate, key: [...contract.key] } } : {}),
  };
}
