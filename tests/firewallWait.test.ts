/**
 * `npm run db:setup` right after the hook opened the SQL firewall: Azure SQL refuses the login
 * (40615) until the new rule takes effect. The errors below have the shape mssql gives them: a
 * ConnectionError('…', 'ELOGIN') whose text is the server's message, without the number.
 */
import sql from 'mssql';
import { describe, expect, it } from 'vitest';
import type { Log } from '../functions/core/log.js';
import { connectThroughNewFirewallRule, DEFAULT_FIREWALL_WAIT, firewallRefusal } from '../functions/local/firewallWait.js';

const notAllowed = () =>
  new sql.ConnectionError(
    "Cannot open server 'sql-abc123' requested by the login. Client with IP address '203.0.113.7' is not allowed to access the server.  To enable access, use the Azure Management Portal or run sp_set_firewall_rule on the master database to create a firewall rule for this IP address or address range.  It may take up to five minutes for this change to take effect.",
    'ELOGIN',
  );
const publicAccessOff = () =>
  new sql.ConnectionError('Reason: An instance-specific error occurred while establishing a connection to SQL Server. Connection was denied since Deny Public Network Access is set to Yes.', 'ELOGIN');
const wrongPassword = () => new sql.ConnectionError("Login failed for user '<token-identified principal>'.", 'ELOGIN');

function recorder() {
  const warnings: string[] = [];
  const waits: number[] = [];
  let clock = 0;
  const log: Log = { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined };
  return { warnings, waits, log, now: () => clock, wait: (ms: number) => {
      waits.push((clock += ms));
      return Promise.resolve();
    },
  };
}

describe('waiting for a new SQL firewall rule', () => {
  it('recognises 40615 and 47073 by number or by the server text, and nothing else', () => {
    expect(firewallRefusal(notAllowed())).toBe(40615);
    expect(firewallRefusal(publicAccessOff())).toBe(47073);
    expect(firewallRefusal(Object.assign(new Error('x'), { number: 40615 }))).toBe(40615);
    expect(firewallRefusal(wrongPassword())).toBeUndefined();
    expect(firewallRefusal(Object.assign(new Error('paused'), { number: 40613 }))).toBeUndefined();
  });

  it('retries with a growing delay until the rule takes effect, saying why', async () => {
    const r = recorder();
    let attempts = 0;
    const result = await connectThroughNewFirewallRule(
      () => {
        attempts++;
        return attempts <= 3 ? Promise.reject(notAllowed()) : Promise.resolve('connected');
      },
      { log: r.log, wait: r.wait, now: r.now },
    );
    expect(result).toBe('connected');
    expect(attempts).toBe(4);
    expect(r.waits).toEqual([5_000, 15_000, 35_000]); // 5 s, then 10 s, then 20 s (cumulative clock)
    expect(r.warnings[0]).toMatch(/firewall does not admit this address yet \(a new rule takes up to five minutes to take effect\); retrying in 5 s/);
  });

  it('gives up after its budget with a message that says what to check', async () => {
    const r = recorder();
    let attempts = 0;
    const failing = connectThroughNewFirewallRule(
      () => {
        attempts++;
        return Promise.reject(notAllowed());
      },
      { log: r.log, wait: r.wait, now: r.now },
    );
    await expect(failing).rejects.toThrow(/still refuses this machine after \d+ s \(error 40615: the firewall does not admit this address yet\).*SQL_CLIENT_IP/);
    expect(r.waits.at(-1)!).toBeLessThanOrEqual(DEFAULT_FIREWALL_WAIT.budgetMs);
    expect(attempts).toBeGreaterThan(5);
  });

  it('throws any other error at once', async () => {
    const r = recorder();
    await expect(connectThroughNewFirewallRule(() => Promise.reject(wrongPassword()), { log: r.log, wait: r.wait, now: r.now })).rejects.toThrow(/Login failed/);
    expect(r.waits).toEqual([]);
  });
});
