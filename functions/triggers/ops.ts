/**
 * Operations over HTTP (function-key auth): the same operations as `npm run ops`, for operators
 * and scripts. GET reads its input from the query string, POST from a JSON body; a bad input gets
 * 400 with a message naming the field. See functions/ops/operations.ts.
 *
 *   GET  /api/ops/runs?limit=20&status=failed     POST /api/ops/backfill {"from","to"}
 *   GET  /api/ops/freshness                       POST /api/ops/replay   {"file"}
 *   GET  /api/ops/trace?company=C1&date=D         POST /api/ops/rerun    {"from","to","source"?|"select"?}
 *   GET  /api/ops/lineage?select=+gold.x          POST /api/ops/quarantine {"file","reason"}
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { runOperation, type OperationName } from '../ops/operations.js';
import { withPipelineContext } from './hostContext.js';

export const OPS_ROUTES: { name: OperationName; functionName: string; method: 'GET' | 'POST' }[] = [
  { name: 'runs', functionName: 'opsRuns', method: 'GET' },
  { name: 'freshness', functionName: 'opsFreshness', method: 'GET' },
  { name: 'trace', functionName: 'opsTrace', method: 'GET' },
  { name: 'lineage', functionName: 'opsLineage', method: 'GET' },
  { name: 'backfill', functionName: 'opsBackfill', method: 'POST' },
  { name: 'replay', functionName: 'opsReplay', method: 'POST' },
  { name: 'quarantine', functionName: 'opsQuarantine', method: 'POST' },
  { name: 'rerun', functionName: 'opsRerun', method: 'POST' },
];

/** The request's input: query parameters (without the function key) or the JSON body. */
async function requestInput(request: HttpRequest): Promise<{ value: unknown } | { error: string }> {
  if (request.method === 'GET') {
    const query = Object.fromEntries(request.query.entries());
    delete query.code; // the function key, when passed in the query string
    return { value: query };
  }
  const text = await request.text();
  if (text.trim() === '') return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'the body must be a JSON object' };
    return { value };
  } catch (err) {
    return { error: `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function opsHandler(name: OperationName): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return (request, context) =>
    withPipelineContext(context, async (ctx) => {
      const input = await requestInput(request);
      if ('error' in input) return { status: 400, jsonBody: { error: `${name}: ${input.error}` } };
      const result = await runOperation(ctx, name, input.value);
      return { status: result.status, jsonBody: result.body };
    });
}

for (const route of OPS_ROUTES) {
  app.http(route.functionName, { methods: [route.method], authLevel: 'function', route: `ops/${route.name}`, handler: opsHandler(route.name) });
}
