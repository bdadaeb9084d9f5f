/**
 * `npm run bench [-- --domain <domain>] [options]`: the benchmark of one domain (default
 * `company_activity`, `bench/bench.ts`). Another domain's benchmark is `bench/<domain>.ts`,
 * exporting `runDomainBench(argv)`; the options after `--domain` are its own.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DEFAULT = 'company_activity';
/** Short names people type. */
const ALIASES: Record<string, string> = { companies: 'company_activity', crm: 'crm_warehouse', customers: 'customer_analytics' };

function splitDomain(argv: string[]): { domain: string; rest: string[] } {
  const rest: string[] = [];
  let domain = DEFAULT;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--domain') domain = argv[++i] ?? '';
    else if (arg.startsWith('--domain=')) domain = arg.slice('--domain='.length);
    else rest.push(arg);
  }
  return { domain: ALIASES[domain] ?? domain, rest };
}

async function main(): Promise<void> {
  const { domain, rest } = splitDomain(process.argv.slice(2));
  if (domain === DEFAULT) {
    // the company activity bench reads its options from process.argv when it loads
    process.argv = [process.argv[0]!, process.argv[1]!, ...rest];
    await import('./bench.js');
    return;
  }
  const file = path.join(HERE, `${domain}.ts`);
  if (!/^[a-z][a-z0-9_]*$/.test(domain) || !existsSync(file)) {
    const { DOMAINS } = await import('../functions/domains/registry.js');
    const known = DOMAINS.map((d) => d.name).filter((d) => d === DEFAULT || existsSync(path.join(HERE, `${d}.ts`)));
    console.error(`npm run bench: no benchmark for domain "${domain}" (domains with one: ${known.join(', ')})`);
    process.exitCode = 2;
    return;
  }
  const mod = (await import(pathToFileURL(file).href)) as { runDomainBench: (argv: string[]) => Promise<void> };
  await mod.runDomainBench(rest);
}

main().catch((err: unknown) => {
  console.error(`\nbenchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
