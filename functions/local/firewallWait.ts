/**
 * `npm run db:setup` connects right after the setup hook opened Azure SQL to this machine, and a
 * new firewall rule (or public access turned back on) takes a while to take effect: "up to five
 * minutes" for server-level rules (https://learn.microsoft.com/azure/azure-sql/database/firewall-configure).
 * Until then the server refuses the login with error 40615 (this address is not allowed) or 47073
 * (public network access is off). This retries exactly those, with a bounded backoff, and says why.
 */
import type { Log } from '../core/log.js';
import { sqlErrorNumber } from '../warehouse/mssql/sqlErrors.js';

const REFUSALS = {
  40615: { pattern: /Client with IP address .* is not allowed to access the server/i, why: 'the firewall does not admit this address yet (a new rule takes up to five minutes to take effect)' },
  47073: { pattern: /Deny Public Network Access is set to Yes/i, why: 'public network access is still off (turning it on takes a moment to take effect)' },
} as const;
type Refusal = keyof typeof REFUSALS;

/** The messages of `err` and of what it wraps (tedious keeps the server's text, not always its number). */
function messages(err: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e); ) {
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (typeof o.message === 'string') parts.push(o.message);
    e = o.originalError ?? o.cause;
  }
  return parts.join(' | ');
}

/** 40615 or 47073 when `err` is Azure SQL refusing this machine at the network level, else undefined. */
export function firewallRefusal(err: unknown): Refusal | undefined {
  const number = sqlErrorNumber(err);
  if (number === 40615 || number === 47073) return number;
  const text = messages(err);
  return (Object.keys(REFUSALS).map(Number) as Refusal[]).find((n) => REFUSALS[n].pattern.test(text));
}

export interface FirewallWaitPolicy {
  /** Give up this long after the first refusal. */
  budgetMs: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/** Longer than the documented five minutes, so a rule that takes all of them still gets one more try. */
export const DEFAULT_FIREWALL_WAIT: FirewallWaitPolicy = { budgetMs: 6 * 60_000, firstDelayMs: 5_000, maxDelayMs: 30_000 };

/** Runs `connect`, retrying while Azure SQL refuses this machine at the network level; any other error is thrown at once. */
export async function connectThroughNewFirewallRule<T>(
  connect: () => Promise<T>,
  opts: { log: Log; policy?: FirewallWaitPolicy; wait?: (ms: number) => Promise<void>; now?: () => number },
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_FIREWALL_WAIT;
  const wait = opts.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = opts.now ?? Date.now;
  let started: number | undefined;
  let delayMs = policy.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      const refusal = firewallRefusal(err);
      if (refusal === undefined) throw err;
      started ??= now();
      const elapsed = now() - started;
      if (elapsed + delayMs > policy.budgetMs) {
        throw new Error(
          `Azure SQL still refuses this machine after ${Math.round(elapsed / 1000)} s (error ${refusal}: ${REFUSALS[refusal].why.replace(/ \(.*\)$/, '')}). ` +
            'The setup hook opens the firewall to the address it finds (SQL_CLIENT_IP overrides it): if a proxy or VPN makes Azure SQL see another address, ' +
            'set SQL_CLIENT_IP to that one, or run the setup from inside the virtual network (docs/deploy.md, "Network isolation").',
          { cause: err },
        );
      }
      opts.log.warn(`Azure SQL refuses this machine for now: ${REFUSALS[refusal].why}; retrying in ${Math.round(delayMs / 1000)} s`, { error: refusal, attempt });
      await wait(delayMs);
      delayMs = Math.min(policy.maxDelayMs, delayMs * 2);
    }
  }
}
