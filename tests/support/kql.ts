/**
 * KQL syntax errors, from Microsoft's own Kusto parser (`@kusto/language-service-next`, the one
 * behind the portal's query editor). Azure Monitor validates a log alert's query when the rule is
 * created, so a syntax error there fails the deployment; in a workbook it breaks the tile.
 * Syntax only: without the Application Insights schema, unknown columns are not errors.
 */
import { createRequire } from 'node:module';

interface Diagnostic {
  Severity: string;
  Message: string;
  Start: number;
}
interface KustoGlobal {
  Language: { KustoCode: { Parse(text: string): { GetDiagnostics(): { Count: number; getItem(i: number): Diagnostic } } } };
}

let kusto: KustoGlobal | undefined;

/** The parser is a Bridge.NET build that installs itself as globals; load it once, on first use. */
function parser(): KustoGlobal {
  if (!kusto) {
    const require = createRequire(import.meta.url);
    const g = globalThis as unknown as { Bridge?: unknown; Kusto?: KustoGlobal };
    g.Bridge ??= require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    if (!g.Kusto) throw new Error('@kusto/language-service-next did not load');
    kusto = g.Kusto;
  }
  return kusto;
}

const cache = new Map<string, string[]>();

/** Each syntax error as "message (at: …text…)"; empty when the query parses. */
export function kqlSyntaxErrors(query: string): string[] {
  let errors = cache.get(query);
  if (!errors) cache.set(query, (errors = parse(query)));
  return errors;
}

function parse(query: string): string[] {
  const diagnostics = parser().Language.KustoCode.Parse(query).GetDiagnostics();
  const errors: string[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity === 'Error') errors.push(`${d.Message} (at: ${query.slice(Math.max(0, d.Start - 20), d.Start + 20).replace(/\s+/g, ' ')})`);
  }
  return errors;
}
