/**
 * Streams a CSV file as records with the line each starts on. Parsing is csv-parse's (quotes,
 * embedded commas and newlines, BOM, empty lines); we only normalise CRLF first, because its line
 * counter counts a CRLF inside a quoted field twice.
 */
import { parse, type CsvError } from 'csv-parse';
import { Transform, type Readable, type TransformCallback } from 'node:stream';

export type CsvItem =
  | { kind: 'record'; line: number; fields: string[]; raw: string }
  | { kind: 'malformed'; line: number; reason: string; raw: string };

/** CRLF → LF, holding a trailing CR until the next chunk shows what follows it. */
class CrlfToLf extends Transform {
  private pendingCr = false;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let text = (this.pendingCr ? '\r' : '') + chunk.toString('latin1');
    this.pendingCr = text.endsWith('\r');
    if (this.pendingCr) text = text.slice(0, -1);
    // latin1 round-trips bytes one to one, so multi-byte UTF-8 split across chunks stays intact.
    done(null, Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1'));
  }
  override _flush(done: TransformCallback): void {
    done(null, this.pendingCr ? Buffer.from('\r', 'latin1') : null);
  }
}

function newlineCount(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** Lines the record itself spans, without the empty lines csv-parse folds into its raw text. */
function startLine(endLine: number, raw: string): number {
  const body = raw.replace(/^\n+/, '').replace(/\n$/, '');
  return endLine - newlineCount(body);
}

export async function* csvRecords(input: Readable): AsyncGenerator<CsvItem> {
  // Skipped records are reported by callback as the parser meets them, while good records wait in
  // the stream buffer: tag each with how many records came before it, to yield them in file order.
  const malformed: { afterRecords: number; item: CsvItem }[] = [];
  const parser = parse({
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true, // a wrong field count is a bad row we report, not a parse failure
    skip_empty_lines: true,
    relax_quotes: true, // a stray quote inside a field (`ab"c`, `"ab"c`) is kept as text, not a lost file tail
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      const text = raw ?? '';
      const line = typeof err?.lines === 'number' ? err.lines : 0;
      const afterRecords = typeof err?.records === 'number' ? err.records : Number.MAX_SAFE_INTEGER;
      malformed.push({ afterRecords, item: { kind: 'malformed', line: startLine(line, text), reason: err?.message ?? 'unparseable CSV record', raw: text } });
      return undefined;
    },
  });
  const normalised = input.pipe(new CrlfToLf());
  normalised.on('error', (e) => parser.destroy(e));
  normalised.pipe(parser);
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number; records: number }; raw: string }>) {
    while (malformed.length && malformed[0]!.afterRecords < item.info.records) yield malformed.shift()!.item;
    yield { kind: 'record', line: startLine(item.info.lines, item.raw), fields: item.record, raw: item.raw };
  }
  while (malformed.length) yield malformed.shift()!.item;
}
