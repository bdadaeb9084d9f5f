/**
 * A source contract applied to JSON records (the usage API): a zod schema derived from the
 * declaration, compiled (`z.compile` generates a fast path for valid input; invalid input falls
 * back to the normal parser, so the issues reported are identical), plus the per-file work:
 * rules, duplicate keys and schema drift.
 *
 * Drift costs almost nothing on the fast path: a valid record only has its keys counted (a
 * `for…in`, no array); its fields are looked at one by one only when the count differs from the
 * contract's or the record failed the schema.
 */
import { z } from 'zod';
import type { IsoDate } from '../core/dates.js';
import {
  columnBounds,
  duplicateKeyReason,
  enumLookup,
  exampleJson,
  isChangedType,
  isWellFormedText,
  jsonTypeMismatch,
  jsonTypeOf,
  normaliseTimestamp,
  outsideBounds,
  parseDecimal,
  textTooLong,
  TypeTally,
  typeName,
  UniqueKeys,
  type ColumnSpec,
  type ColumnSpecs,
  type DateWindow,
  type DriftFinding,
  type RowOf,
  type SourceContract,
} from './contract.js';

export type JsonRecordCheck<Row> = { ok: true; record: Row } | { ok: false; field: string; reason: string };

function fieldSchema(spec: ColumnSpec<unknown>): z.ZodType {
  const type = spec.type;
  let schema: z.ZodType;
  switch (type.kind) {
    case 'text': {
      // trimmed like CSV text; empty is null where allowed; the length counts code points
      const max = type.maxLength;
      const nullable = Boolean(spec.nullable);
      schema = z.string().transform((raw, ctx) => {
        const v = raw.trim();
        if (v === '') {
          if (nullable) return null;
          ctx.addIssue({ code: 'custom', message: 'empty' });
          return z.NEVER;
        }
        if (!isWellFormedText(v)) {
          ctx.addIssue({ code: 'custom', message: 'not valid Unicode text (a lone surrogate)' });
          return z.NEVER;
        }
        const tooLong = textTooLong(v, max);
        if (tooLong !== undefined) {
          ctx.addIssue({ code: 'custom', message: tooLong });
          return z.NEVER;
        }
        return v;
      });
      break;
    }
    case 'integer': {
      let int = z.int();
      if (type.min !== undefined) int = int.min(type.min, `less than ${type.min}`);
      if (type.max !== undefined) int = int.max(type.max, `greater than ${type.max}`);
      schema = int;
      break;
    }
    case 'date':
      schema = z.iso.date();
      break;
    case 'decimal': {
      // a number or its text; landed as canonical text, never through a binary float
      const t = type;
      schema = z.union([z.number(), z.string()]).transform((raw, ctx) => {
        const text = typeof raw === 'number' ? (Number.isFinite(raw) ? String(raw) : '') : raw.trim();
        const d = /e/i.test(text) ? undefined : parseDecimal(text, t);
        if (d === undefined || 'reason' in d) {
          ctx.addIssue({ code: 'custom', message: d ? d.reason : `not a decimal number: ${JSON.stringify(raw)}` });
          return z.NEVER;
        }
        return d.text;
      });
      break;
    }
    case 'boolean':
      schema = z.boolean();
      break;
    case 'enum': {
      const lookup = enumLookup(type.values);
      const allowed = type.values.map((x) => `"${x}"`).join(', ');
      schema = z.string().transform((raw, ctx) => {
        const v = lookup(raw.trim());
        if (v === undefined) {
          ctx.addIssue({ code: 'custom', message: `not one of ${allowed}: ${JSON.stringify(raw)}` });
          return z.NEVER;
        }
        return v;
      });
      break;
    }
    case 'timestamp':
      schema = z.string().transform((v, ctx) => {
        const normalised = normaliseTimestamp(v);
        if (normalised !== undefined) return normalised;
        ctx.addIssue({ code: 'custom', message: `not an ISO 8601 date or date-time: "${v}"` });
        return z.NEVER;
      });
      break;
  }
  if (spec.nullable) schema = schema.nullable();
  // An absent optional field is null in the record, as an absent optional CSV column is.
  if (spec.optional) schema = schema.optional().transform((v: unknown) => v ?? null);
  return schema;
}

/** The zod schema of one record: the declared fields in order; unknown fields are dropped. */
export function jsonRecordSchema(columns: ColumnSpecs<never>): z.ZodObject {
  return z.object(Object.fromEntries(Object.entries(columns).map(([name, spec]) => [name, fieldSchema(spec as ColumnSpec<unknown>)])));
}

/** One file (a pulled date) being read against the contract. */
export interface JsonFile<Row> {
  /** Validates one record: schema, rules, duplicate key. */
  check(raw: unknown): JsonRecordCheck<Row>;
  /** Schema drift over the records checked so far: new fields, changed types, optional fields never sent. */
  drift(): DriftFinding[];
}

export interface JsonContract<Row, Ctx> {
  schema: z.ZodObject;
  /** The schema check of one record alone; on failure names the first failing field (`(record)` when it is not an object). */
  validate(raw: unknown): JsonRecordCheck<Row>;
  /**
   * Starts a file: its records are checked one at a time, in order. Dates and timestamps must lie
   * in `window`, relative to `anchor` (the requested date of a pull, described by `anchorMeans`).
   */
  open(ctx: Ctx, limits: { window: DateWindow; anchor: IsoDate; anchorMeans: string }): JsonFile<Row>;
}

interface NewField {
  count: number;
  type: string;
  example: string;
}

export function compileJsonContract<C extends ColumnSpecs<Ctx>, Ctx>(contract: SourceContract<C, Ctx>): JsonContract<RowOf<C>, Ctx> {
  type Row = RowOf<C>;
  const schema = jsonRecordSchema(contract.columns);
  const compiled = z.compile(schema);
  const names = Object.keys(contract.columns);
  const specs = names.map((n) => contract.columns[n]!);
  const declared = new Set(names);
  const fieldCount = names.length;
  // Fields whose presence a valid record does not prove: counted record by record (none for usage).
  const countEach = specs.map((s) => Boolean(s.optional || s.nullable));
  const anyCountEach = countEach.some(Boolean);
  const rules = contract.rules ?? [];

  const validate = (raw: unknown): JsonRecordCheck<Row> => {
    const parsed = compiled.safeParse(raw);
    if (parsed.success) return { ok: true, record: parsed.data as Row };
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)';
    return { ok: false, field, reason: issue?.message ?? 'invalid record' };
  };

  return {
    schema,
    validate,
    open(ctx: Ctx, limits): JsonFile<Row> {
      const bounds = specs.map((spec) => columnBounds(spec.type, limits.window, limits.anchor, limits.anchorMeans));
      const bounded = bounds.flatMap((b, f) => (b ? [f] : []));
      let records = 0;
      let schemaValid = 0;
      const present = new Array<number>(fieldCount).fill(0); // non-null values
      const sent = new Array<number>(fieldCount).fill(0); // the key at all (optional / nullable fields only)
      const mismatches = new Array<number>(fieldCount).fill(0);
      const observed = specs.map(() => new TypeTally());
      const examples = new Array<string | undefined>(fieldCount);
      const newFields = new Map<string, NewField>();
      // fields beyond this many distinct new ones are only counted: a hostile page cannot grow the map
      const MAX_NEW_FIELDS = 1_000;
      let otherNewFields = 0;
      const keys = contract.duplicateKeys === 'reject' ? new UniqueKeys(contract.key) : undefined;

      const inspectKeys = (obj: Record<string, unknown>) => {
        for (const k in obj) {
          if (declared.has(k)) continue;
          const seen = newFields.get(k);
          if (seen) seen.count++;
          else if (newFields.size < MAX_NEW_FIELDS) newFields.set(k, { count: 1, type: jsonTypeOf(obj[k]), example: exampleJson(obj[k]) });
          else otherNewFields++;
        }
      };

      const inspectTypes = (obj: Record<string, unknown>) => {
        for (let f = 0; f < fieldCount; f++) {
          const v = obj[names[f]!];
          if (v === undefined || v === null) continue;
          if (!countEach[f]) present[f]!++; // the others are counted on every record
          const wrong = jsonTypeMismatch(specs[f]!.type, v);
          if (wrong !== undefined) {
            mismatches[f]!++;
            examples[f] ??= exampleJson(v);
            observed[f]!.add(wrong);
          }
        }
      };

      const check = (raw: unknown): JsonRecordCheck<Row> => {
        records++;
        const obj = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
        if (obj) {
          let count = 0;
          for (const _k in obj) count++;
          if (count !== fieldCount || anyCountEach) inspectKeys(obj);
          if (anyCountEach) {
            for (let f = 0; f < fieldCount; f++) {
              if (!countEach[f]) continue;
              const v = obj[names[f]!];
              if (v !== undefined) sent[f]!++;
              if (v !== undefined && v !== null) present[f]!++;
            }
          }
        }
        const result = validate(raw);
        if (!result.ok) {
          if (obj) inspectTypes(obj);
          return result;
        }
        schemaValid++;
        const row = result.record;
        for (const f of bounded) {
          const v = (row as Record<string, unknown>)[names[f]!];
          if (typeof v !== 'string') continue;
          const sent = obj?.[names[f]!];
          const outside = outsideBounds(v, bounds[f]!, typeof sent === 'string' ? sent : v);
          if (outside !== undefined) return { ok: false, field: names[f]!, reason: outside };
        }
        for (let r = 0; r < rules.length; r++) {
          const reason = rules[r]!.check(row, ctx);
          if (reason !== undefined) return { ok: false, field: rules[r]!.field, reason };
        }
        if (keys && !keys.add(row)) return { ok: false, field: contract.key[0]!, reason: duplicateKeyReason(contract.key, row) };
        return result;
      };

      const drift = (): DriftFinding[] => {
        const findings: DriftFinding[] = [];
        if (otherNewFields > 0) {
          findings.push({
            kind: 'new_column',
            column: `(${otherNewFields} more)`,
            detail: `${otherNewFields} more occurrences of fields that are not in the ${contract.source} contract, beyond the first ${MAX_NEW_FIELDS} distinct ones`,
          });
        }
        for (const [name, f] of newFields) {
          findings.push({
            kind: 'new_column',
            column: name,
            observed: f.type,
            example: f.example,
            detail: `field "${name}" is not in the ${contract.source} contract (in ${f.count} of ${records} records, e.g. ${f.example}); not landed in bronze`,
          });
        }
        specs.forEach((spec, f) => {
          // A valid record carries every required, non-nullable field with the right type.
          const nonNull = present[f]! + (countEach[f] ? 0 : schemaValid);
          if (spec.optional && records > 0 && sent[f] === 0) {
            findings.push({
              kind: 'missing_optional_column',
              column: names[f]!,
              expected: typeName(spec.type),
              detail: `optional field "${names[f]}" is in none of the ${records} records`,
            });
          }
          if (isChangedType(mismatches[f]!, nonNull)) {
            const expected = typeName(spec.type);
            const seen = observed[f]!.top() ?? 'unknown';
            findings.push({
              kind: 'changed_type',
              column: names[f]!,
              expected,
              observed: seen,
              example: examples[f]!,
              detail: `${mismatches[f]} of ${nonNull} values of "${names[f]}" are not ${expected} (mostly ${seen}, e.g. ${examples[f]}); those records are quarantined`,
            });
          }
        });
        return findings;
      };

      return { check, drift };
    },
  };
}
