/**
 * CRM metric tables on every engine, against numbers worked out by hand: revenue per month and year
 * (partial periods, empty months, the change on a year before), product concentration, segments,
 * percentiles on known lists (even and odd counts), the sales funnel, and the weekly operations view.
 */
import { describe, expect, it } from 'vitest';
import { runTransform } from '../functions/transform/transform.js';
import type { Warehouse } from '../functions/warehouse/warehouse.js';
import { ENGINES, skipUnavailable } from './support/engines.js';
import { testContext, useTestStorage, useWarehousePerTest, type TestStorage } from './support/pipeline.js';
import { rowsOf, uploadCrm } from './support/crm.js';

const testStorage = useTestStorage();

/** An order of one line: `amount` as one unit at that price, delivered, written when ordered (unless `updated`). */
const order = (id: string, day: string, amount: string, account = 'A1', extra: Record<string, string> = {}) => ({
  order_id: id,
  ordered_at: `${day}T10:00:00Z`,
  updated_at: `${day}T10:00:00Z`,
  unit_price: amount,
  account_id: account,
  ...extra,
});

/** A ticket created at 2024-01-08 00:00 UTC (a Monday), answered and resolved after the given hours. */
const ticket = (id: string, channel: string, response: number | null, resolution: number | null, extra: Record<string, string> = {}) => {
  const t = (hours: number) => new Date(Date.parse('2024-01-08T00:00:00Z') + hours * 3_600_000).toISOString().replace('.000', '');
  const last = resolution ?? response ?? 0;
  return {
    ticket_id: id,
    channel,
    created_at: '2024-01-08T00:00:00Z',
    first_response_at: response === null ? '' : t(response),
    resolved_at: resolution === null ? '' : t(resolution),
    status: resolution === null ? 'open' : 'resolved',
    updated_at: t(last),
    ...extra,
  };
};

describe.each(ENGINES)('CRM metrics on $name', (engine) => {
  if (skipUnavailable(engine)) return;
  let wh: Warehouse;
  let storage: TestStorage;
  useWarehousePerTest(engine, testStorage, (f) => ({ wh, storage } = f));

  it('sum revenue per month and year, with empty months, partial periods and the change on a year before', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      order('O1', '2023-01-15', '100.00'),
      order('O2', '2023-02-10', '200.00'),
      order('O3', '2023-02-20', '50.00', 'A2'),
      order('O4', '2024-01-05', '300.00'),
      order('O5', '2024-02-10', '150.00', 'A2'),
      order('O6', '2024-02-11', '250.00', 'A3'),
      order('O7', '2024-02-12', '999.00', 'A3', { order_status: 'cancelled' }), // not revenue
      order('O8', '2024-03-05', '80.00', 'A1', { updated_at: '2024-03-10T12:00:00Z' }), // the data's as-of date: 2024-03-10
    ]);
    await runTransform(ctx);
    const months = await rowsOf<Record<string, unknown>>(
      wh,
      'gold.mtr_revenue_by_month',
      ['month_start', 'revenue', 'orders', 'units', 'customers', 'aov', 'revenue_per_customer', 'revenue_prior_year', 'revenue_yoy_change', 'revenue_yoy_change_pct', 'is_partial_period'],
      'month_start',
    );
    // 15 months, Jan 2023 (the data starts on the 15th: partial) to Mar 2024 (ends on the 10th: partial)
    expect(months.map((m) => m.month_start)).toEqual([...['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'].map((m) => `2023-${m}-01`), '2024-01-01', '2024-02-01', '2024-03-01']);
    const empty = { revenue: 0, orders: 0, units: 0, customers: 0, aov: null, revenue_per_customer: null, is_partial_period: false };
    expect(months[0]).toEqual({ month_start: '2023-01-01', revenue: 100, orders: 1, units: 1, customers: 1, aov: 100, revenue_per_customer: 100, revenue_prior_year: null, revenue_yoy_change: null, revenue_yoy_change_pct: null, is_partial_period: true });
    // Feb 2023: 200 + 50 from two accounts
    expect(months[1]).toEqual({ month_start: '2023-02-01', revenue: 250, orders: 2, units: 2, customers: 2, aov: 125, revenue_per_customer: 125, revenue_prior_year: null, revenue_yoy_change: null, revenue_yoy_change_pct: null, is_partial_period: false });
    expect(months[2]).toEqual({ month_start: '2023-03-01', ...empty, revenue_prior_year: null, revenue_yoy_change: null, revenue_yoy_change_pct: null });
    // Jan 2024 is full, but Jan 2023 was partial: not compared
    expect(months[12]).toEqual({ month_start: '2024-01-01', revenue: 300, orders: 1, units: 1, customers: 1, aov: 300, revenue_per_customer: 300, revenue_prior_year: 100, revenue_yoy_change: null, revenue_yoy_change_pct: null, is_partial_period: false });
    // Feb 2024: 150 + 250 = 400 (the cancelled 999 is not revenue) against 250: +150, +60 %
    expect(months[13]).toEqual({ month_start: '2024-02-01', revenue: 400, orders: 2, units: 2, customers: 2, aov: 200, revenue_per_customer: 200, revenue_prior_year: 250, revenue_yoy_change: 150, revenue_yoy_change_pct: 0.6, is_partial_period: false });
    // Mar 2024 ends after the as-of date: partial, not compared (against March 2023's 0)
    expect(months[14]).toEqual({ month_start: '2024-03-01', revenue: 80, orders: 1, units: 1, customers: 1, aov: 80, revenue_per_customer: 80, revenue_prior_year: 0, revenue_yoy_change: null, revenue_yoy_change_pct: null, is_partial_period: true });

    // both years are partial (2023 starts on Jan 15, 2024 ends on Mar 10): no change computed
    // 2023: 100 + 200 + 50 = 350 from 3 orders (aov 116.666… → 116.67) and 2 accounts (175 each)
    // 2024: 300 + 150 + 250 + 80 = 780 from 4 orders (195) and 3 accounts (260)
    expect(await rowsOf(wh, 'gold.mtr_revenue_by_year', ['year', 'revenue', 'orders', 'customers', 'aov', 'revenue_per_customer', 'revenue_prior_year', 'revenue_yoy_change', 'is_partial_period', 'as_of_date'], 'year')).toEqual([
      { year: 2023, revenue: 350, orders: 3, customers: 2, aov: 116.67, revenue_per_customer: 175, revenue_prior_year: null, revenue_yoy_change: null, is_partial_period: true, as_of_date: '2024-03-10' },
      { year: 2024, revenue: 780, orders: 4, customers: 3, aov: 195, revenue_per_customer: 260, revenue_prior_year: 350, revenue_yoy_change: null, is_partial_period: true, as_of_date: '2024-03-10' },
    ]);
  });

  it('rank products by revenue with their share, running share and category', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_products', 'p.csv', [
      { product_id: 'P1', category: 'Hardware', unit_price: '100.00', unit_cost: '50.00' },
      { product_id: 'P2', category: 'Hardware', unit_price: '100.00', unit_cost: '80.00' },
      { product_id: 'P3', category: 'Software', unit_price: '100.00', unit_cost: '' },
      { product_id: 'P4', category: 'Software', unit_price: '100.00', unit_cost: '10.00' },
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      { order_id: 'O1', line_number: '1', product_id: 'P1', quantity: '6', unit_price: '100.00' }, // 600, cost 300
      { order_id: 'O1', line_number: '2', product_id: 'P2', quantity: '3', unit_price: '100.00' }, // 300, cost 240
      { order_id: 'O2', line_number: '1', product_id: 'P3', quantity: '1', unit_price: '100.00' }, // 100, cost unknown
      { order_id: 'O3', line_number: '1', product_id: 'P4', quantity: '1', unit_price: '100.00', order_status: 'returned' }, // not revenue
    ]);
    await runTransform(ctx);
    // total 1000: shares .6, .3, .1, 0; Hardware 900 (.9), Software 100 (.1); P1 is 600 / 900 of Hardware
    expect(
      await rowsOf(wh, 'gold.mtr_product_performance', ['product_id', 'revenue', 'units', 'orders', 'cost', 'margin', 'margin_pct', 'revenue_rank', 'revenue_share', 'cumulative_share', 'category_revenue', 'category_share', 'category_rank', 'category_cumulative_share', 'share_of_category'], 'revenue_rank, product_id'),
    ).toEqual([
      { product_id: 'P1', revenue: 600, units: 6, orders: 1, cost: 300, margin: 300, margin_pct: 0.5, revenue_rank: 1, revenue_share: 0.6, cumulative_share: 0.6, category_revenue: 900, category_share: 0.9, category_rank: 1, category_cumulative_share: 0.9, share_of_category: 0.666667 },
      { product_id: 'P2', revenue: 300, units: 3, orders: 1, cost: 240, margin: 60, margin_pct: 0.2, revenue_rank: 2, revenue_share: 0.3, cumulative_share: 0.9, category_revenue: 900, category_share: 0.9, category_rank: 1, category_cumulative_share: 0.9, share_of_category: 0.333333 },
      { product_id: 'P3', revenue: 100, units: 1, orders: 1, cost: null, margin: null, margin_pct: null, revenue_rank: 3, revenue_share: 0.1, cumulative_share: 1, category_revenue: 100, category_share: 0.1, category_rank: 2, category_cumulative_share: 1, share_of_category: 1 },
      { product_id: 'P4', revenue: 0, units: 0, orders: 0, cost: 0, margin: 0, margin_pct: null, revenue_rank: 4, revenue_share: 0, cumulative_share: 1, category_revenue: 100, category_share: 0.1, category_rank: 2, category_cumulative_share: 1, share_of_category: 0 },
    ]);
  });

  it('round an exact half-cent half away from zero on every engine (a float cast straight to DECIMAL did not)', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      order('H1', '2024-01-10', '1.00', 'A1'),
      order('H2', '2024-01-20', '1.01', 'A2'),
      order('H3', '2024-02-10', '2.00', 'A1'),
      order('H4', '2024-02-20', '3.35', 'A2'),
    ]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'gold.mtr_revenue_by_month', ['month_start', 'revenue', 'orders', 'customers', 'aov', 'revenue_per_customer'], 'month_start')).toEqual([
      // 1.00 + 1.01 = 2.01 over 2 orders (and 2 customers) = 1.005 → 1.01 (the float 1.00499999… cast straight: 1.00 on both engines)
      { month_start: '2024-01-01', revenue: 2.01, orders: 2, customers: 2, aov: 1.01, revenue_per_customer: 1.01 },
      // 2.00 + 3.35 = 5.35 over 2 = 2.675 → 2.68 (the float 2.67499999… cast straight: 2.68 on DuckDB, 2.67 on Azure SQL)
      { month_start: '2024-02-01', revenue: 5.35, orders: 2, customers: 2, aov: 2.68, revenue_per_customer: 2.68 },
    ]);
    // the year: 7.36 over 4 orders = 1.84 exactly, over 2 customers = 3.68
    expect(await rowsOf(wh, 'gold.mtr_revenue_by_year', ['year', 'revenue', 'orders', 'aov', 'revenue_per_customer'], 'year')).toEqual([
      { year: 2024, revenue: 7.36, orders: 4, aov: 1.84, revenue_per_customer: 3.68 },
    ]);
  });

  it('break revenue ties between a product and the unknown product the same way on every engine; a margin that does not fit is NULL', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_products', 'p.csv', [
      { product_id: 'P1', category: 'Hardware', unit_price: '0.01', unit_cost: '1000.01' }, // margin (0.01 - 1000.01) / 0.01 = -100,000: over DECIMAL(9, 4)
      { product_id: 'P2', category: 'Hardware', unit_price: '100.00', unit_cost: '50.00' },
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      { order_id: 'O1', line_number: '1', product_id: 'P2', quantity: '1', unit_price: '100.00' }, // 100, cost 50
      { order_id: 'O2', line_number: '1', product_id: 'PX', quantity: '1', unit_price: '100.00' }, // 100 for a product not in the export: the unknown product
      { order_id: 'O3', line_number: '1', product_id: 'P1', quantity: '1', unit_price: '0.01' }, // 0.01, cost 1000.01
    ]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'gold.dim_products', ['product_id', 'margin_pct'], 'product_key')).toEqual([
      { product_id: null, margin_pct: null }, // the unknown product (key -1)
      { product_id: 'P1', margin_pct: null }, // does not fit: NULL, the model runs on
      { product_id: 'P2', margin_pct: 0.5 },
    ]);
    // total 200.01; P2 and the unknown product tie at 100 (rank 1): P2 first (the unknown product after the
    // known ones), running 100 / 200.01 = 0.4999750… → 0.499975, then 200 / 200.01 = 0.9999500… → 0.999950
    expect(await rowsOf(wh, 'gold.mtr_product_performance', ['product_id', 'revenue', 'margin_pct', 'revenue_rank', 'cumulative_share'], 'cumulative_share')).toEqual([
      { product_id: 'P2', revenue: 100, margin_pct: 0.5, revenue_rank: 1, cumulative_share: 0.499975 },
      { product_id: null, revenue: 100, margin_pct: null, revenue_rank: 1, cumulative_share: 0.99995 },
      { product_id: 'P1', revenue: 0.01, margin_pct: null, revenue_rank: 3, cumulative_share: 1 }, // (0.01 - 1000.01) / 0.01 does not fit
    ]);
  });

  it('summarise contacts, support and revenue by income segment × gender × account revenue segment', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_accounts', 'a.csv', [
      { account_id: 'A1', annual_revenue: '200000000.00' }, // High
      { account_id: 'A2', annual_revenue: '5000000.00' }, // Low
    ]);
    await uploadCrm(ctx, storage, 'crm_contacts', 'c.csv', [
      { contact_id: 'C1', account_id: 'A1', gender: 'Female', income_segment: 'High' },
      { contact_id: 'C2', account_id: 'A1', gender: 'Male', income_segment: 'Low' },
      { contact_id: 'C3', account_id: 'A2', gender: 'Female', income_segment: 'High' },
      { contact_id: 'C4', account_id: 'A9', gender: '', income_segment: '' }, // account never received
    ]);
    await uploadCrm(ctx, storage, 'crm_tickets', 't.csv', [
      { ticket_id: 'T1', contact_id: 'C1' },
      { ticket_id: 'T2', contact_id: 'C1' },
      { ticket_id: 'T3', contact_id: 'C3' },
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      order('O1', '2024-01-02', '100.00', 'A1', { contact_id: 'C1' }),
      order('O2', '2024-01-03', '50.00', 'A1', { contact_id: 'C1' }),
      order('O3', '2024-01-03', '30.00', 'A1', { contact_id: 'C2' }),
      order('O4', '2024-01-03', '999.00', 'A1', { contact_id: '' }), // no contact: in no segment
    ]);
    await runTransform(ctx);
    expect(await rowsOf(wh, 'gold.mtr_customer_segment_summary', ['income_segment', 'gender', 'revenue_segment', 'contacts', 'support_engaged_contacts', 'tickets', 'orders', 'revenue', 'revenue_per_contact'], 'income_segment, gender, revenue_segment')).toEqual([
      { income_segment: 'High', gender: 'Female', revenue_segment: 'High', contacts: 1, support_engaged_contacts: 1, tickets: 2, orders: 2, revenue: 150, revenue_per_contact: 150 },
      { income_segment: 'High', gender: 'Female', revenue_segment: 'Low', contacts: 1, support_engaged_contacts: 1, tickets: 1, orders: 0, revenue: 0, revenue_per_contact: 0 },
      { income_segment: 'Low', gender: 'Male', revenue_segment: 'High', contacts: 1, support_engaged_contacts: 0, tickets: 0, orders: 1, revenue: 30, revenue_per_contact: 30 },
      { income_segment: 'Unknown', gender: 'Unknown', revenue_segment: 'Unknown', contacts: 1, support_engaged_contacts: 0, tickets: 0, orders: 0, revenue: 0, revenue_per_contact: 0 },
    ]);
  });

  it('take percentiles on known lists (even and odd counts), CSAT, SLA and top issues per channel and month, and the week\'s view', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    await uploadCrm(ctx, storage, 'crm_tickets', 't.csv', [
      // email: responses 1, 2, 3, 4 h; resolutions 10, 20, 30, 100 h (medium: targets 8 h and 120 h, all met)
      ticket('E1', 'email', 1, 10, { csat_score: '5', issue_type: 'billing' }),
      ticket('E2', 'email', 2, 20, { csat_score: '4', issue_type: 'billing' }),
      ticket('E3', 'email', 3, 30, { csat_score: '2', issue_type: 'login', account_id: 'A2' }),
      ticket('E4', 'email', 4, 100, { issue_type: 'refund' }), // the as-of moment: 2024-01-12 04:00
      // chat: responses 1, 2, 10 h (10 > 8: breached); resolutions 5, 7 h; the third never resolved
      ticket('H1', 'chat', 1, 5, { csat_score: '1', issue_type: 'shipping', account_id: 'A2' }),
      ticket('H2', 'chat', 2, 7, { issue_type: 'shipping' }),
      ticket('H3', 'chat', 10, null, { issue_type: 'billing', account_id: 'A3' }),
    ]);
    await uploadCrm(ctx, storage, 'crm_order_lines', 'o.csv', [
      order('O1', '2023-06-01', '100.00', 'A2'), // within the 52 weeks before the week of 2024-01-08
      order('O2', '2022-12-01', '500.00', 'A2'), // before them
      order('O3', '2024-01-09', '70.00', 'A3'), // in the week itself
      order('O4', '2024-01-09', '1000.00', 'A1'), // A1 is not at risk
    ]);
    await runTransform(ctx);
    const rows = await rowsOf<Record<string, unknown>>(wh, 'gold.mtr_support_performance', ['*'], 'channel, month_start');
    expect(rows.map((r) => [r.channel, r.month_start, r.is_partial_period])).toEqual([
      ['chat', '2024-01-01', true],
      ['email', '2024-01-01', true],
    ]);
    const [chat, email] = rows;
    // even count [1, 2, 3, 4]: median (2 + 3) / 2 = 2.5; P75 at 0.75 × 3 = 2.25 → 3 + 0.25 × 1 = 3.25; P95 at 2.85 → 3.85
    expect(email).toMatchObject({ tickets: 4, responded: 4, resolved: 4, first_response_hours_median: 2.5, first_response_hours_p75: 3.25, first_response_hours_p95: 3.85, first_response_hours_mean: 2.5 });
    // [10, 20, 30, 100]: median 25, mean 40 (the tail pulls the mean up)
    expect(email).toMatchObject({ resolution_hours_median: 25, resolution_hours_p75: 47.5, resolution_hours_p95: 89.5, resolution_hours_mean: 40 });
    // CSAT 5, 4, 2: mean 3.667, positive 2 of 3; SLA met 4 of 4
    expect(email).toMatchObject({ csat_answers: 3, csat_mean: 3.667, csat_positive_share: 0.6667, sla_decided: 4, sla_met: 4, sla_compliance: 1, top_issue_type_1: 'billing', top_issue_type_2: 'login', top_issue_type_3: 'refund' });
    // odd count [1, 2, 10]: median 2; P75 at 1.5 → 2 + 0.5 × 8 = 6; P95 at 1.9 → 2 + 0.9 × 8 = 9.2; mean 13 / 3
    expect(chat).toMatchObject({ tickets: 3, responded: 3, resolved: 2, first_response_hours_median: 2, first_response_hours_p75: 6, first_response_hours_p95: 9.2, first_response_hours_mean: 4.333 });
    expect(chat).toMatchObject({ resolution_hours_median: 6, resolution_hours_p75: 6.5, resolution_hours_p95: 6.9, resolution_hours_mean: 6 });
    expect(chat).toMatchObject({ csat_answers: 1, csat_mean: 1, csat_positive_share: 0, sla_decided: 3, sla_met: 2, sla_compliance: 0.6667, top_issue_type_1: 'shipping', top_issue_type_2: 'billing', top_issue_type_3: null });

    // the week of Monday 2024-01-08: responses [1, 1, 2, 2, 3, 4, 10] → median 2; resolutions [5, 7, 10, 20, 30, 100] → 15;
    // CSAT 5, 4, 2, 1: 2 of 4 positive; H3 breached; at risk: A2 (CSAT 2 and 1) and A3 (H3), whose revenue over
    // the 52 weeks up to the week is 100 (A2, Jun 2023; not Dec 2022) + 70 (A3) = 170
    expect(await rowsOf(wh, 'gold.mtr_weekly_ops', ['*'], 'week_start')).toEqual([
      { week_start: '2024-01-08', iso_year: 2024, iso_week: 2, tickets: 7, median_first_response_hours: 2, median_resolution_hours: 15, csat_answers: 4, csat_positive_share: 0.5, sla_violators: 1, accounts_at_risk: 2, revenue_at_risk: 170, is_partial_period: true },
    ]);
  });

  it('measure the sales funnel from the stage history: open pipeline, conversion, days in stage, win rate, cycle', async () => {
    const ctx = testContext({ storage, warehouse: wh, now: '2024-04-01T06:00:00Z' });
    const v = (deal: string, stage: string, day: string, extra: Record<string, string> = {}) => ({
      deal_id: deal,
      stage,
      created_at: extra.created_at ?? '2024-01-01T09:00:00Z',
      updated_at: `2024-01-${day}T09:00:00Z`,
      closed_at: stage.startsWith('closed') ? `2024-01-${day}T09:00:00Z` : '',
      probability: { prospecting: '10', qualification: '25', proposal: '50', closed_won: '100', closed_lost: '0' }[stage]!,
      ...extra,
    });
    await uploadCrm(ctx, storage, 'crm_deals', 'd.csv', [
      ...[['prospecting', '01'], ['proposal', '05'], ['qualification', '10'], ['closed_won', '20']].map(([s, d]) => v('D1', s!, d!, { amount: '1000.00' })),
      ...[['prospecting', '01'], ['qualification', '03'], ['closed_lost', '13']].map(([s, d]) => v('D2', s!, d!, { amount: '500.00' })),
      ...[['prospecting', '02'], ['proposal', '06']].map(([s, d]) => v('D3', s!, d!, { amount: '2000.00', created_at: '2024-01-02T09:00:00Z' })),
      v('D4', 'qualification', '04', { amount: '300.00', created_at: '2024-01-04T09:00:00Z' }),
    ]);
    await runTransform(ctx);
    const kpis = { won_deals: 1, lost_deals: 1, win_rate: 0.5, avg_won_deal_size: 1000, median_sales_cycle_days: 19, as_of_date: '2024-01-20' };
    // entered / advanced: prospecting D1 D2 D3 / all three; qualification D1 D2 D4 / D1 (won later; D2 lost);
    // proposal D1 D3 / D1 (won after a step back). Days of finished periods: prospecting 4, 2, 4 → 3.33;
    // qualification 10, 10; proposal 5 (D3's is current)
    expect(await rowsOf(wh, 'gold.mtr_sales_pipeline', ['stage', 'open_deals', 'pipeline_value', 'weighted_value', 'deals_entered', 'deals_advanced', 'conversion_rate', 'avg_days_in_stage', 'won_deals', 'lost_deals', 'win_rate', 'avg_won_deal_size', 'median_sales_cycle_days', 'as_of_date'], 'stage_order')).toEqual([
      { stage: 'prospecting', open_deals: 0, pipeline_value: 0, weighted_value: 0, deals_entered: 3, deals_advanced: 3, conversion_rate: 1, avg_days_in_stage: 3.33, ...kpis },
      { stage: 'qualification', open_deals: 1, pipeline_value: 300, weighted_value: 75, deals_entered: 3, deals_advanced: 1, conversion_rate: 0.3333, avg_days_in_stage: 10, ...kpis },
      { stage: 'proposal', open_deals: 1, pipeline_value: 2000, weighted_value: 1000, deals_entered: 2, deals_advanced: 1, conversion_rate: 0.5, avg_days_in_stage: 5, ...kpis },
      { stage: 'negotiation', open_deals: 0, pipeline_value: 0, weighted_value: 0, deals_entered: 0, deals_advanced: 0, conversion_rate: null, avg_days_in_stage: null, ...kpis },
      { stage: 'closed_won', open_deals: 0, pipeline_value: 0, weighted_value: 0, deals_entered: 1, deals_advanced: 0, conversion_rate: null, avg_days_in_stage: null, ...kpis },
      { stage: 'closed_lost', open_deals: 0, pipeline_value: 0, weighted_value: 0, deals_entered: 1, deals_advanced: 0, conversion_rate: null, avg_days_in_stage: null, ...kpis },
    ]);
  });
});
