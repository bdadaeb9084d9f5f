/**
 * The churn model: the logistic fit against coefficients known in closed form and published for
 * the Challenger O-ring data, the holdout measures, and the whole path on a generated history
 * with planted churn (the model must find it: holdout AUC above 0.75), scored in SQL from the
 * stored coefficients exactly as the fit scores in TypeScript.
 */
import { describe, expect, it } from 'vitest';
import { fitLogistic, logLoss, predict, rocAuc } from '../functions/domains/customer_analytics/churn/logistic.js';
import { CHURN_TERMS, trainingRowsSql } from '../functions/domains/customer_analytics/churn/model.js';
import { tsqlSyntaxErrors } from './support/tsqlGrammar.js';
import { generateCustomerData } from '../functions/domains/customer_analytics/generate.js';
import { runUploadIngest } from '../functions/ingest/uploadIngest.js';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { putBlob, testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';

/** Slope and intercept on the original scale, from a fit on standardised features. */
function originalScale(fit: ReturnType<typeof fitLogistic>): { intercept: number; slopes: number[] } {
  const slopes = fit.coefficients.map((b, j) => b / fit.sds[j]!);
  return { intercept: fit.intercept - slopes.reduce((s, b, j) => s + b * fit.means[j]!, 0), slopes };
}

describe('logistic regression', () => {
  it('finds the closed-form answer for one binary feature: the log-odds of each group', () => {
    // x = 0: 2 of 8 positive → logit(0.25) = ln(1/3); x = 1: 6 of 8 → ln 3; slope ln 3 - ln(1/3) = ln 9
    const x: number[] = [...new Array<number>(8).fill(0), ...new Array<number>(8).fill(1)];
    const y = [1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0];
    const { intercept, slopes } = originalScale(fitLogistic(x.map((v) => [v]), y));
    expect(intercept).toBeCloseTo(Math.log(1 / 3), 8);
    expect(slopes[0]).toBeCloseTo(Math.log(9), 8);
  });

  it('matches the published fit of the Challenger O-ring data (failure ~ temperature)', () => {
    // 23 launches before 1986: launch temperature (°F) and whether an O-ring failed;
    // glm(fail ~ temp, family = binomial) gives 15.0429 - 0.2322 × temp
    const temp = [66, 70, 69, 68, 67, 72, 73, 70, 57, 63, 70, 78, 67, 53, 67, 75, 70, 81, 76, 79, 75, 76, 58];
    const fail = [0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1];
    const fit = fitLogistic(temp.map((t) => [t]), fail);
    const { intercept, slopes } = originalScale(fit);
    expect(fit.converged).toBe(true);
    expect(intercept).toBeCloseTo(15.0429, 3);
    expect(slopes[0]).toBeCloseTo(-0.2322, 4);
    // at 31 °F (the launch of January 1986) the model gives a failure probability near 1
    expect(predict(fit, [31])).toBeGreaterThan(0.99);
  });

  it('leaves a constant feature out and measures AUC with ties and log loss by hand', () => {
    const fit = fitLogistic([[1, 5], [2, 5], [3, 5], [4, 5]], [0, 1, 0, 1]);
    expect(fit.coefficients[1]).toBe(0);
    expect(fit.sds[1]).toBe(1);
    // positives 0.35 and 0.8 against negatives 0.1 and 0.4: pairs won 1 + 0 + 1 + 1 = 3 of 4
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    // a tie between a positive and a negative counts half: (1 + 0.5) / 2
    expect(rocAuc([0.2, 0.5, 0.5], [0, 0, 1])).toBe(0.75);
    expect(rocAuc([0.2, 0.3], [1, 1])).toBeUndefined();
    expect(logLoss([0.5, 0.8], [1, 0])).toBeCloseTo((Math.log(2) + Math.log(5)) / 2, 12);
  });
});

describe('the churn model’s own SQL', () => {
  it('reads its training rows with a statement the T-SQL grammar accepts (the tour trains no model)', () => {
    expect(tsqlSyntaxErrors(trainingRowsSql('mssql'))).toEqual([]);
  });
});

const testStorage = useTestStorage();

/** A small history with planted churn: 1,500 customers over 480 days. */
async function generatedFiles(): Promise<{ customers: string; transactions: string; rows: number }> {
  const customers: string[] = [];
  const transactions: string[] = [];
  const counts = await generateCustomerData(
    { customers: 1500, days: 480, seed: 11, endDate: '2024-06-30', rate: 0.12 },
    { customers: (l) => void customers.push(l), transactions: (l) => void transactions.push(l) },
  );
  return { customers: customers.join('\n'), transactions: transactions.join('\n'), rows: counts.transactions };
}

describe.each(ENGINES)('the churn model on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('learns the planted churn from the warehouse’s own history (holdout AUC > 0.75) and scores it in SQL', async () => {
    const files = await generatedFiles();
    const ctx = testContext({ storage, warehouse: wh });
    await putBlob(storage.storage, 'landing', 'customers/customers.csv', files.customers);
    await putBlob(storage.storage, 'landing', 'transactions/transactions.csv', files.transactions);
    expect(await runUploadIngest(ctx, 'customers/customers.csv')).toMatchObject({ status: 'loaded', rowsQuarantined: 0 });
    expect(await runUploadIngest(ctx, 'transactions/transactions.csv')).toMatchObject({ status: 'loaded', rowsQuarantined: 0 });
    expect(await runTransform(ctx)).toMatchObject({ status: 'done' });

    const model = await wh.query<{ term: string; method: string; coefficient: number; feature_mean: number; feature_sd: number; holdout_auc: number; base_rate: number; holdout_log_loss: number; train_rows: number; holdout_rows: number; holdout_date: string; training_snapshots: string }>(
      `SELECT term, method, CAST(coefficient AS FLOAT) AS coefficient, CAST(feature_mean AS FLOAT) AS feature_mean, CAST(feature_sd AS FLOAT) AS feature_sd,
              CAST(holdout_auc AS FLOAT) AS holdout_auc, CAST(base_rate AS FLOAT) AS base_rate, CAST(holdout_log_loss AS FLOAT) AS holdout_log_loss,
              train_rows, holdout_rows, holdout_date, training_snapshots
       FROM gold.churn_model ORDER BY term`.replaceAll('FLOAT', wh.engine === 'duckdb' ? 'DOUBLE' : 'FLOAT'),
    );
    const intercept = model.find((m) => m.term === 'intercept')!;
    console.log(`churn model on generated data: AUC ${intercept.holdout_auc}, log loss ${intercept.holdout_log_loss}, base rate ${intercept.base_rate}, ${intercept.train_rows} training rows, ${intercept.holdout_rows} holdout rows`);
    expect(intercept.method).toBe('logistic_regression');
    expect(model.map((m) => m.term).sort()).toEqual(['intercept', ...CHURN_TERMS].sort());
    expect(intercept.holdout_auc).toBeGreaterThan(0.75);
    expect(intercept.base_rate).toBeGreaterThan(0.02);
    expect(intercept.base_rate).toBeLessThan(0.6);
    // the holdout is the latest month end with a whole label window (2024-06-30 - 90 days → March), training a label window before it
    expect(intercept.holdout_date).toBe('2024-03-31');
    expect(intercept.training_snapshots.split(',').every((d) => d <= '2024-01-01')).toBe(true);
    // recency drives it: the longer since the last purchase, the likelier the churn
    expect(model.find((m) => m.term === 'recency')!.coefficient).toBeGreaterThan(0);

    // SQL scores equal the fit's own arithmetic on the stored coefficients
    const rows = await wh.query<Record<string, number | string | null>>(
      `SELECT f.customer_id, CAST(p.churn_probability AS VARCHAR(20)) AS p, ${CHURN_TERMS.map((t) => `CAST(f.x_${t} AS VARCHAR(40)) AS x_${t}`).join(', ')}
       FROM gold.churn_predictions p JOIN silver.customer_features f ON f.customer_id = p.customer_id AND f.snapshot_role = 'score'`,
    );
    expect(rows.length).toBeGreaterThan(500);
    const byTerm = new Map(model.map((m) => [m.term, m]));
    for (const r of rows.slice(0, 200)) {
      let z = intercept.coefficient;
      for (const t of CHURN_TERMS) {
        const m = byTerm.get(t)!;
        const x = r[`x_${t}`] === null ? m.feature_mean : Number(r[`x_${t}`]);
        z += (m.coefficient * (x - m.feature_mean)) / m.feature_sd;
      }
      expect(Number(r.p)).toBeCloseTo(1 / (1 + Math.exp(-Math.max(-30, Math.min(30, z)))), 5);
    }
    const [scores] = await wh.query<{ lo: number; hi: number }>(`SELECT MIN(churn_risk_score) AS lo, MAX(churn_risk_score) AS hi FROM gold.churn_predictions`);
    expect(scores!.lo).toBeGreaterThanOrEqual(0);
    expect(scores!.hi).toBeLessThanOrEqual(100);
    expect(scores!.hi - scores!.lo).toBeGreaterThan(50);

    // the next run with nothing new about the training snapshots keeps the fit
    const again = await runTransform(ctx, [{ source: 'transactions', from: '2024-06-30', to: '2024-06-30', reason: 'test', mode: 'rebuild' }]);
    expect(again.status).toBe('done');
    const [kept] = await wh.query<{ model_version: string }>(`SELECT model_version FROM gold.churn_model WHERE term = 'intercept'`);
    expect(kept!.model_version).toBe('logistic-2024-06-30');
  }, 240_000);
});
