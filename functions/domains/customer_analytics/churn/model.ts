/**
 * `gold.churn_model`: the churn model, trained on the warehouse's own history. Features come from
 * `silver.customer_features` (one SQL definition for training and scoring): the customers active
 * in the year before each training snapshot, labelled 1 when they bought nothing in the
 * CUSTOMER_CHURN_LABEL_DAYS after it. Logistic regression (`logistic.ts`) on the training
 * snapshots, judged on the holdout snapshot, a later month end whose label window no training
 * label overlaps (a time-based holdout). The table holds one row per term — intercept and one
 * per feature, with the mean and standard deviation that standardise it — and the holdout's AUC,
 * log loss and base rate; `gold.churn_predictions` scores in SQL from these rows on either engine.
 *
 * When the history is too short for a holdout and a training snapshot (about 180 + 2 × 90 days
 * with the defaults), or the training data has too few churners or stayers to learn from, the
 * model is the documented recency / frequency heuristic instead, and says why.
 *
 * The fit is kept while its snapshots and their data are unchanged: the daily run only rescores.
 */
import { renderSql } from '../../../warehouse/macros.js';
import type { CodeModelInput } from '../../../transform/models.js';
import type { EngineName, SqlSession } from '../../../warehouse/warehouse.js';
import { fitLogistic, logLoss, predict, rocAuc } from './logistic.js';

/** The model's features: `x_<term>` columns of silver.customer_features, in this order. */
export const CHURN_TERMS = ['recency', 'frequency', 'monetary', 'trend', 'tenure', 'aov', 'age', 'credit_limit'] as const;

/** The heuristic: 0.7 × recency share of CUSTOMER_LOST_DAYS (capped at 1) + 0.3 × (1 - purchases in the last 365 days / 12, floored at 0). */
export const HEURISTIC_WEIGHTS = { recency: 0.7, frequency: 0.3, purchasesForFullFrequency: 12 } as const;

/** Fewest churners and stayers in the training rows for a fit. */
export const MIN_CLASS_ROWS = 20;
/** Penalty on the standardised slopes: negligible with thousands of rows, keeps a small sample stable. */
export const L2_PENALTY = 1;

export interface ChurnModelRow {
  term: string;
  model_version: string;
  method: 'logistic_regression' | 'heuristic';
  coefficient: number;
  feature_mean: number;
  feature_sd: number;
  trained_as_of: string;
  holdout_date: string | null;
  training_snapshots: string;
  label_days: number;
  train_rows: number;
  holdout_rows: number;
  train_base_rate: number | null;
  base_rate: number | null;
  holdout_auc: number | null;
  holdout_log_loss: number | null;
  train_auc: number | null;
  note: string;
}

/** Column order of the table (models.ts declares the same). */
export const CHURN_MODEL_COLUMNS: (keyof ChurnModelRow)[] = [
  'term', 'model_version', 'method', 'coefficient', 'feature_mean', 'feature_sd', 'trained_as_of', 'holdout_date', 'training_snapshots', 'label_days',
  'train_rows', 'holdout_rows', 'train_base_rate', 'base_rate', 'holdout_auc', 'holdout_log_loss', 'train_auc', 'note',
];

const round = (v: number | null, digits: number) => (v === null ? null : Number(v.toFixed(digits)));

async function writeModel(session: SqlSession, input: CodeModelInput, rows: ChurnModelRow[]): Promise<void> {
  await session.exec(`DELETE FROM gold.churn_model`);
  await session.appendRows(
    input.table,
    rows.map((r) => CHURN_MODEL_COLUMNS.map((c) => {
      const v = r[c];
      return typeof v === 'number' && ['coefficient', 'feature_mean', 'feature_sd'].includes(c) ? round(v, 8) : typeof v === 'number' && c !== 'label_days' && !c.endsWith('_rows') ? round(v, 6) : v;
    })),
  );
}

function heuristicRows(asOf: string, labelDays: number, note: string): ChurnModelRow[] {
  const base = {
    model_version: `heuristic-${asOf}`,
    method: 'heuristic' as const,
    feature_mean: 0,
    feature_sd: 1,
    trained_as_of: asOf,
    holdout_date: null,
    training_snapshots: '',
    label_days: labelDays,
    train_rows: 0,
    holdout_rows: 0,
    train_base_rate: null,
    base_rate: null,
    holdout_auc: null,
    holdout_log_loss: null,
    train_auc: null,
    note,
  };
  return [
    { ...base, term: 'recency_weight', coefficient: HEURISTIC_WEIGHTS.recency },
    { ...base, term: 'frequency_weight', coefficient: HEURISTIC_WEIGHTS.frequency },
    { ...base, term: 'purchases_for_full_frequency', coefficient: HEURISTIC_WEIGHTS.purchasesForFullFrequency },
  ];
}

/** The training and holdout rows, the model's inputs as 8-byte floats. */
export function trainingRowsSql(engine: EngineName): string {
  const d = (term: string) => renderSql(`{{ to_double(x_${term}) }} AS x_${term}`, engine);
  return `SELECT snapshot_role, churned, ${CHURN_TERMS.map(d).join(', ')} FROM silver.customer_features WHERE snapshot_role IN ('train', 'holdout') ORDER BY snapshot_date, customer_id`;
}

interface TrainingRow {
  snapshot_role: string;
  churned: number;
  [x: string]: number | string | null;
}

export async function buildChurnModel(session: SqlSession, input: CodeModelInput): Promise<{ rowsOut: number; detail: unknown }> {
  const labelDays = input.settings.CUSTOMER_CHURN_LABEL_DAYS;
  const [asOf] = await session.query<{ as_of_date: string; history_days: number }>(`SELECT as_of_date, history_days FROM silver.customer_as_of`);
  if (!asOf) {
    await session.exec(`DELETE FROM gold.churn_model`);
    return { rowsOut: 0, detail: 'no transactions yet' };
  }
  const snapshots = await session.query<{ snapshot_date: string; snapshot_role: string }>(
    `SELECT snapshot_date, snapshot_role FROM silver.churn_snapshots WHERE snapshot_role IN ('train', 'holdout') ORDER BY snapshot_date`,
  );
  const holdout = snapshots.find((s) => s.snapshot_role === 'holdout')?.snapshot_date ?? null;
  const training = snapshots.filter((s) => s.snapshot_role === 'train').map((s) => s.snapshot_date);
  if (!holdout || training.length === 0) {
    const note =
      `history too short for a trained model: ${asOf.history_days} days up to ${asOf.as_of_date}; a training snapshot needs 180 days of history, ` +
      `its ${labelDays}-day label window, then the holdout snapshot's (about ${180 + 2 * labelDays} days in all, month ends): scored by the recency/frequency heuristic`;
    await writeModel(session, input, heuristicRows(asOf.as_of_date, labelDays, note));
    return { rowsOut: 3, detail: { method: 'heuristic', note } };
  }

  // the fit stands while its snapshots, their data and the label window are what it was trained on
  const snapshotList = training.join(',');
  const [current] = await session.query<{ method: string; holdout_date: string | null; training_snapshots: string; label_days: number }>(
    `SELECT method, holdout_date, training_snapshots, label_days FROM gold.churn_model WHERE term = 'intercept'`,
  );
  if (current?.method === 'logistic_regression' && current.holdout_date === holdout && current.training_snapshots === snapshotList && current.label_days === labelDays && input.range.from > holdout) {
    return { rowsOut: 0, detail: { method: 'logistic_regression', kept: `trained on ${snapshotList}, holdout ${holdout}; their data unchanged` } };
  }

  const rows = await session.query<TrainingRow>(trainingRowsSql(input.engine));
  const train = rows.filter((r) => r.snapshot_role === 'train');
  const test = rows.filter((r) => r.snapshot_role === 'holdout');
  const churners = train.filter((r) => Number(r.churned) === 1).length;
  if (churners < MIN_CLASS_ROWS || train.length - churners < MIN_CLASS_ROWS || test.length === 0) {
    const note = `too little to learn from: ${train.length} training rows, ${churners} churned (at least ${MIN_CLASS_ROWS} churners and ${MIN_CLASS_ROWS} stayers needed), ${test.length} holdout rows: scored by the recency/frequency heuristic`;
    await writeModel(session, input, heuristicRows(asOf.as_of_date, labelDays, note));
    return { rowsOut: 3, detail: { method: 'heuristic', note } };
  }

  // a missing attribute (no customers file, an empty age) is the training mean: it moves no score
  const means = CHURN_TERMS.map((t) => {
    const present = train.map((r) => r[`x_${t}`]).filter((v): v is number => v !== null && v !== undefined);
    return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0;
  });
  const vector = (r: TrainingRow) => CHURN_TERMS.map((t, j) => {
    const v = r[`x_${t}`];
    return v === null || v === undefined ? means[j]! : Number(v);
  });
  const xTrain = train.map(vector);
  const yTrain = train.map((r) => Number(r.churned));
  const fit = fitLogistic(xTrain, yTrain, { l2: L2_PENALTY });
  const xTest = test.map(vector);
  const yTest = test.map((r) => Number(r.churned));
  const pTest = xTest.map((x) => predict(fit, x));
  const pTrain = xTrain.map((x) => predict(fit, x));
  const metrics = {
    train_base_rate: yTrain.reduce((a, b) => a + b, 0) / yTrain.length,
    base_rate: yTest.reduce((a, b) => a + b, 0) / yTest.length,
    holdout_auc: rocAuc(pTest, yTest) ?? null,
    holdout_log_loss: logLoss(pTest, yTest),
    train_auc: rocAuc(pTrain, yTrain) ?? null,
  };
  const base = {
    model_version: `logistic-${asOf.as_of_date}`,
    method: 'logistic_regression' as const,
    trained_as_of: asOf.as_of_date,
    holdout_date: holdout,
    training_snapshots: snapshotList,
    label_days: labelDays,
    train_rows: train.length,
    holdout_rows: test.length,
    ...metrics,
    note: `trained on ${training.length} month-end snapshot(s) ${training[0]} … ${training[training.length - 1]}, judged on ${holdout}; ${fit.iterations} Newton steps${fit.converged ? '' : ' (not converged)'}`,
  };
  const modelRows: ChurnModelRow[] = [
    { ...base, term: 'intercept', coefficient: fit.intercept, feature_mean: 0, feature_sd: 1 },
    ...CHURN_TERMS.map((t, j) => ({ ...base, term: t, coefficient: fit.coefficients[j]!, feature_mean: fit.means[j]!, feature_sd: fit.sds[j]! })),
  ];
  await writeModel(session, input, modelRows);
  return { rowsOut: modelRows.length, detail: { method: 'logistic_regression', ...metrics, train_rows: train.length, holdout_rows: test.length } };
}
