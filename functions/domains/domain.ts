/**
 * A domain: one business area's sources and models, declared in one folder
 * (`functions/domains/<name>/`, its SQL in `sql/<name>/`). The pipeline's shared machinery —
 * ingest, load, the model graph, data tests, operations — works on every domain the same way;
 * `registry.ts` lists them.
 */
import type { IsoDate } from '../core/dates.js';
import type { Settings } from '../core/settings.js';
import type { SourceChecks } from '../quality/sourceChecks.js';
import type { DomainReport } from '../report/page.js';
import { completeModel, type ModelDef, type ModelSpec, type ModelValues } from '../transform/models.js';
import type { ColumnDef, TableDef } from '../warehouse/catalog.js';
import type { SqlSession, SqlValue } from '../warehouse/warehouse.js';
import type { UploadSource } from '../sources/uploadSource.js';

/** A bronze table the transform loads from bronze blobs under `bronze/<name>/`. */
export interface BronzeSource {
  name: string;
  table: TableDef;
  /** The business date of a row: which dates a loaded file affects. */
  dateColumn: string;
  /** Freshness limits (the monitor) and the tests run after each load. */
  checks: SourceChecks;
  /** How its data arrives, in a few words (lineage): `CSV uploads to landing/<name>/`, `pulled from …`. */
  arrives: string;
}

/**
 * A governed view in the `reporting` schema: what Power BI and the report read, with stable names
 * and types (a test holds the view to its declared columns on every engine). Created by the
 * bootstrap (`npm run db:setup` in Azure), not by the transform: the app identity has no DDL right.
 */
export interface ViewSpec {
  name: `reporting.${string}`;
  /** Path under `sql/<domain>/`: one SELECT (macros allowed, no parameters). */
  file: string;
  description: string;
  /** Who reads it: a Power BI tab, a report page (the exposure). */
  exposure: string;
  /** Its columns and their types, in order. */
  columns: ColumnDef[];
}

export interface ViewDef extends ViewSpec {
  domain: string;
}

export interface DomainSpec {
  /** Folder name under `functions/domains/` and `sql/`; also its selector (`--select company_activity`). */
  name: string;
  title: string;
  description: string;
  /** CSV uploads, one landing folder each. */
  uploadSources?: UploadSource[];
  /** Sources pulled by a timer (an API), landed as bronze blobs by their own ingester. */
  pulledSources?: BronzeSource[];
  models: ModelSpec[];
  /** Reporting views over its models. */
  views?: ViewSpec[];
  /** `@parameters` and `{{ slots }}` its models use, from settings (each statement gets the ones it names). */
  values?: (settings: Settings) => { parameters?: Record<string, SqlValue>; slots?: Record<string, number> };
  /** Headline figures for the run summaries (`npm start`, `npm run upload`), read from its tables. */
  headlines?: (session: SqlSession, settings: Settings) => Promise<Headline[]>;
  /**
   * A deterministic sample for `npm start`: the files it uploads, in order (several exports over
   * time, some bad rows, late updates). Company activity's own sample also needs its usage API and
   * is made by `npm start` itself.
   */
  sample?: (options: SampleOptions) => SampleFile[];
  /** Its pages in the HTML report and its share of the executive summary (`<domain>/report.ts`; docs/report.md). */
  report?: DomainReport;
}

export interface SampleOptions {
  seed: number;
  /** The last day the sample covers (yesterday for `npm start`). */
  endDate: IsoDate;
}

export interface SampleFile {
  source: string;
  /** File name under `landing/<source>/`. */
  name: string;
  content: string;
}

/** One line of a summary: `label  value`. */
export interface Headline {
  label: string;
  value: string;
}

export interface Domain {
  name: string;
  title: string;
  description: string;
  uploadSources: readonly UploadSource[];
  /** Every source whose bronze table the transform loads: uploads and pulls. */
  bronzeSources: readonly BronzeSource[];
  models: readonly ModelDef[];
  views: readonly ViewDef[];
  values(settings: Settings): ModelValues;
  headlines(session: SqlSession, settings: Settings): Promise<Headline[]>;
  sample(options: SampleOptions): SampleFile[];
  report: DomainReport;
}

export function uploadBronzeSource(s: UploadSource): BronzeSource {
  return { name: s.name, table: s.bronzeTable, dateColumn: s.businessDate, checks: s.checks, arrives: `CSV uploads to landing/${s.name}/` };
}

export function defineDomain(spec: DomainSpec): Domain {
  if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) throw new Error(`domain "${spec.name}": the name must be lower case letters, digits and underscores`);
  const uploads = spec.uploadSources ?? [];
  return {
    name: spec.name,
    title: spec.title,
    description: spec.description,
    uploadSources: uploads,
    bronzeSources: [...uploads.map(uploadBronzeSource), ...(spec.pulledSources ?? [])],
    models: spec.models.map((m) => completeModel(spec.name, m)),
    views: (spec.views ?? []).map((v) => {
      if (!/^reporting\.[a-z][a-z0-9_]*$/.test(v.name)) throw new Error(`view ${v.name} (domain ${spec.name}): the name must be reporting.<name>, lower case`);
      return { ...v, domain: spec.name, file: `${spec.name}/${v.file}` };
    }),
    values: (settings) => {
      const v = spec.values?.(settings) ?? {};
      return { parameters: v.parameters ?? {}, slots: v.slots ?? {} };
    },
    headlines: (session, settings) => spec.headlines?.(session, settings) ?? Promise.resolve([]),
    sample: (options) => spec.sample?.(options) ?? [],
    report: spec.report ?? {},
  };
}
