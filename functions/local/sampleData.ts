/**
 * A deterministic sample CRM export for the local run and tests: weekly snapshots of every
 * company, with what real exports contain (BOM, CRLF, quoted commas and newlines, an extra
 * column) and a few bad rows, so the quarantine path is exercised. Company ids match the local
 * usage API (`C000001` …); two more companies exist only in the CRM.
 */
import { addDays, dateRange, type IsoDate } from '../core/dates.js';
import { companyId } from './usageApiServer.js';
import { prng } from '../core/random.js';

const COUNTRIES = ['DE', 'FR', 'GB', 'US', 'NL', 'ES', 'SE', 'PL'];
const INDUSTRIES = ['saas', 'retail', 'fintech', 'health', 'logistics', 'media', ''];
const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne'];

export interface CrmSample {
  csv: string;
  /** Data rows in the file (header excluded). */
  rows: number;
  /** Rows made bad on purpose, with the line they are on. */
  badLines: number[];
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function crmSampleCsv(options: { seed: number; companies: number; days: number; endDate: IsoDate; badRowEvery?: number }): CrmSample {
  const rand = prng(options.seed ^ 0x5eed);
  const start = addDays(options.endDate, -(options.days - 1));
  const snapshotDates = dateRange(start, options.endDate).filter((_d, i) => i % 7 === 0);
  const header = ['company_id', 'name', 'country', 'industry_tag', 'last_contact_at', 'snapshot_date', 'account_owner'];
  const lines: string[] = [header.join(',')];
  const badLines: number[] = [];
  const badEvery = options.badRowEvery ?? 97;
  const total = options.companies + 2; // two CRM-only companies
  const profile = Array.from({ length: total }, (_, i) => ({
    name: `${WORDS[i % WORDS.length]} ${i % 3 === 0 ? 'Holdings, Inc' : 'GmbH'} ${i + 1}`,
    country: COUNTRIES[Math.floor(rand() * COUNTRIES.length)]!,
    industry: INDUSTRIES[Math.floor(rand() * INDUSTRIES.length)]!,
    // a third of companies are never contacted; the rest every few weeks
    contactEveryDays: rand() < 0.33 ? 0 : 10 + Math.floor(rand() * 50),
    firstSnapshot: Math.floor(rand() * Math.min(3, snapshotDates.length)),
  }));
  let row = 0;
  let embeddedNewlines = 0; // lines taken by newlines inside quoted fields so far
  for (const [s, snapshotDate] of snapshotDates.entries()) {
    for (let i = 0; i < total; i++) {
      const p = profile[i]!;
      if (s < p.firstSnapshot) continue;
      row++;
      const daysIn = s * 7;
      const lastContact = p.contactEveryDays === 0 ? '' : `${addDays(start, daysIn - (daysIn % p.contactEveryDays))}T${String(9 + (i % 8)).padStart(2, '0')}:30:00Z`;
      // an industry re-tag half way through, so the dimension gets a second version
      const industry = s >= snapshotDates.length / 2 && i % 5 === 0 ? 'enterprise' : p.industry;
      let fields = [companyId(i + 1), i === 3 ? `${p.name}\nBranch office` : p.name, p.country, industry, lastContact, snapshotDate, `owner${i % 4}@example.com`];
      if (row % badEvery === 0) {
        const kind = (row / badEvery) % 3;
        if (kind === 0) fields[1] = ''; // empty required name
        else if (kind === 1) fields[4] = 'last tuesday'; // unparseable timestamp
        else fields = fields.slice(0, 4); // short row
        badLines.push(lines.length + 1 + embeddedNewlines);
      }
      const line = fields.map(quote).join(',');
      if (line.includes('\n')) embeddedNewlines += line.split('\n').length - 1;
      lines.push(line);
    }
  }
  return { csv: '\ufeff' + lines.join('\r\n') + '\r\n\r\n', rows: row, badLines };
}
