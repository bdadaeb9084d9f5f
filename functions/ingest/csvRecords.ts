/**
 * Streams a CSV file as records, each with the line it starts on, in bounded memory.
 *
 * A small tokenizer of our own rather than a library. What the parsers on npm offer (checked
 * against their documentation): csv-parse reports lines, but ran at 150–220 k rows/s with `info`
 * on the build machine; csv-parser has a row byte limit that fails the whole stream, one newline
 * character, and byte offsets rather than lines; uDSV is fast but expects well-formed input with
 * one line-break style; papaparse guesses one line-break style per file and streams rows without
 * positions in Node. None resumes after an unterminated quote or says where bytes stop being
 * UTF-8. This one reads the bench's CRM file at ~2 M rows/s alone (`npm run bench` prints it).
 *
 * The rules:
 * - Line breaks are CRLF, LF or a lone CR, anywhere; each counts as one line. Empty lines are
 *   skipped. A line break inside a quoted field is part of the value (CRLF there becomes LF).
 * - Quoting is RFC 4180 (`"a ""b"", c"`). A quote that does not start a field is text (`ab"c`);
 *   a quoted field followed by text before the delimiter keeps its raw text (`"ab"c` → `"ab"c`).
 * - A record longer than `maxRecordChars`, a quote still open at the end of the file, or a record
 *   spanning lines whose field count differs from the header's (a quote that closes only at a
 *   later line's quote), is reported as malformed at the line where it starts, and reading
 *   resumes at the next line: an unterminated quote costs one quarantined line, not the file.
 * - Bytes that are not UTF-8 are reported once (item `encoding`, with line, column, the byte and
 *   the encoding they look like); from there on the rest is decoded as Windows-1252 so the caller
 *   can still count the records. With `encoding: 'windows-1252'` the whole file is decoded so.
 *   A UTF-8 BOM is dropped.
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';

export type CsvItem =
  | { kind: 'record'; line: number; fields: string[]; raw: string }
  | { kind: 'malformed'; line: number; reason: string; raw: string }
  | { kind: 'encoding'; line: number; column: number; reason: string };

export type CsvEncoding = 'utf-8' | 'windows-1252';

export interface CsvReadOptions {
  /** The longest record, in characters (UTF-16 units of the decoded text), line breaks included. */
  maxRecordChars: number;
  /** How the bytes are decoded (default UTF-8, checked). */
  encoding?: CsvEncoding;
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
const RAW_CHARS = 1_000;

const clip = (s: string) => (s.length > RAW_CHARS ? `${s.slice(0, RAW_CHARS)}…` : s);

/** Line breaks in a string: LF, CRLF and a lone CR count one each. */
function lineBreaks(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === LF) n++;
    else if (c === CR && s.charCodeAt(i + 1) !== LF) n++;
  }
  return n;
}

// ---- decoding ---------------------------------------------------------------------------------

/** Bytes at the end of `b` that start a UTF-8 sequence the chunk does not complete. */
function incompleteTail(b: Buffer): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const byte = b[b.length - k]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    if (byte < 0xc0) return 0;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
    return need > k ? k : 0;
  }
  return 0;
}

/** Offset of the first byte that breaks UTF-8 (the slow path, run only when `isUtf8` said no). */
function firstInvalidByte(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}

const cp1252 = new TextDecoder('windows-1252');

/** Which encoding bytes that are not UTF-8 look like. */
function guessEncoding(b: Buffer, at: number, fileStart: boolean): string {
  if (fileStart && at === 0 && b.length >= 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) return 'UTF-16 (it starts with a UTF-16 byte order mark)';
  const sample = b.subarray(Math.max(0, at - 512), at + 4096);
  let nul = 0;
  let c1 = 0;
  for (const byte of sample) {
    if (byte === 0) nul++;
    else if (byte >= 0x80 && byte <= 0x9f) c1++;
  }
  if (nul * 10 > sample.length) return 'UTF-16 (every other byte is 0)';
  return c1 > 0 ? 'Windows-1252' : 'Latin-1/Windows-1252';
}

/**
 * Turns byte chunks into text: UTF-8, checked with `isUtf8` (native) chunk by chunk, with a
 * sequence split across chunks carried over; after the first invalid byte, Windows-1252.
 */
class Decoder {
  private carry: Buffer | undefined;
  private fallback: TextDecoder | undefined;
  private started = false;

  constructor(encoding: CsvEncoding) {
    if (encoding === 'windows-1252') this.fallback = new TextDecoder('windows-1252');
  }

  /** The text of one chunk; `bad` when the chunk breaks UTF-8: the valid text before it and the rest decoded as Windows-1252. */
  decode(chunk: Buffer, last: boolean): { text: string; bad?: { before: string; byte: number; guess: string; context: string } } {
    const first = !this.started;
    this.started = true;
    if (this.fallback) return { text: this.fallback.decode(chunk, { stream: !last }) };
    let bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    const tail = last ? 0 : incompleteTail(bytes);
    if (tail > 0) {
      this.carry = Buffer.from(bytes.subarray(bytes.length - tail));
      bytes = bytes.subarray(0, bytes.length - tail);
    }
    if (isUtf8(bytes)) return { text: bytes.toString('utf8') };
    const at = firstInvalidByte(bytes);
    const before = bytes.toString('utf8', 0, at);
    const guess = guessEncoding(bytes, at, first);
    // the bad byte's line, up to 30 bytes either side
    let from = at;
    while (from > 0 && at - from < 30 && bytes[from - 1] !== LF && bytes[from - 1] !== CR) from--;
    let to = at + 1;
    while (to < bytes.length && to - at < 30 && bytes[to] !== LF && bytes[to] !== CR) to++;
    const context = cp1252.decode(bytes.subarray(from, to));
    this.fallback = new TextDecoder('windows-1252');
    const rest = this.fallback.decode(bytes.subarray(at), { stream: !last });
    return { text: before + rest, bad: { before, byte: bytes[at]!, guess, context } };
  }

}

// ---- tokenizing -------------------------------------------------------------------------------

const NEED_MORE = 0;
const DONE = 1;
const TOO_LONG = 2;
const UNTERMINATED = 3;

/**
 * The tokenizer over the text not consumed yet. Positions of the next comma, quote, LF and CR are
 * cached and only searched again once passed, so every search is linear over the file.
 */
class Tokenizer {
  buf = '';
  pos = 0;
  /** Line of the character at `pos`. */
  line = 1;
  private nc = -1;
  private nq = -1;
  private nl = -1;
  private ncr = -1;
  // The record being read (valid after DONE).
  fields: string[] = [];
  end = 0;
  next = 0;
  breaks = 0;
  problemField = 0;

  constructor(private readonly maxRecordChars: number) {}

  append(text: string): void {
    this.buf = this.pos > 0 ? this.buf.slice(this.pos) + text : this.buf + text;
    this.pos = 0;
    this.rewound();
  }

  /** The cached positions hold only for searches from where they were found onwards: forget them after going back. */
  rewound(): void {
    this.nc = this.nq = this.nl = this.ncr = -1;
  }

  private find(code: number, from: number): number {
    const found = this.buf.indexOf(String.fromCharCode(code), from);
    return found === -1 ? this.buf.length : found;
  }
  private comma(from: number): number {
    if (this.nc < from) this.nc = this.find(COMMA, from);
    return this.nc;
  }
  private quote(from: number): number {
    if (this.nq < from) this.nq = this.find(QUOTE, from);
    return this.nq;
  }
  private lf(from: number): number {
    if (this.nl < from) this.nl = this.find(LF, from);
    return this.nl;
  }
  private cr(from: number): number {
    if (this.ncr < from) this.ncr = this.find(CR, from);
    return this.ncr;
  }

  /** The end of the line that `from` is on (the position of its line break, or the buffer's end). */
  lineEnd(from: number): number {
    return Math.min(this.lf(from), this.cr(from));
  }

  /** Length of the line break at `at` (0 at the end of the buffer). */
  breakLength(at: number): number {
    const c = this.buf.charCodeAt(at);
    if (c === LF) return 1;
    if (c === CR) return this.buf.charCodeAt(at + 1) === LF ? 2 : 1;
    return 0;
  }

  /** Skips empty lines at `pos`; false when more text is needed to know. */
  skipEmptyLines(eof: boolean): boolean {
    const buf = this.buf;
    for (;;) {
      const c = buf.charCodeAt(this.pos);
      if (c === LF) {
        this.pos++;
        this.line++;
      } else if (c === CR) {
        if (this.pos + 1 >= buf.length && !eof) return false;
        this.pos += buf.charCodeAt(this.pos + 1) === LF ? 2 : 1;
        this.line++;
      } else return true;
    }
  }

  /** Reads the record at `pos` into `fields`, `end` (its last character + 1) and `next` (after its line break). */
  record(eof: boolean): number {
    const buf = this.buf;
    const len = buf.length;
    const start = this.pos;
    const limit = start + this.maxRecordChars;
    const fields: string[] = [];
    this.fields = fields;
    this.breaks = 0;
    this.problemField = 0;
    let i = start;
    for (;;) {
      if (buf.charCodeAt(i) === QUOTE) {
        // a quoted field: up to the quote that is not doubled
        let value = '';
        let j = i + 1;
        this.problemField = fields.length + 1;
        for (;;) {
          const q = this.quote(j);
          if (q >= len) {
            if (len - start > this.maxRecordChars) return TOO_LONG;
            return eof ? UNTERMINATED : NEED_MORE;
          }
          if (q >= limit) return TOO_LONG;
          if (q + 1 >= len && !eof) return len - start > this.maxRecordChars ? TOO_LONG : NEED_MORE;
          let part = buf.slice(j, q);
          const breaks = lineBreaks(part);
          if (breaks > 0) {
            this.breaks += breaks;
            if (part.includes('\r\n')) part = part.replace(/\r\n/g, '\n');
          }
          value += part;
          if (buf.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            j = q + 2;
            continue;
          }
          const after = q + 1;
          const c = buf.charCodeAt(after);
          if (c === COMMA || c === LF || c === CR || after >= len) {
            fields.push(value);
            this.problemField = 0;
            i = after;
            break;
          }
          // text after the closing quote: the field is its raw text up to the delimiter
          const stop = Math.min(this.comma(after), this.lineEnd(after));
          if (stop >= len && !eof) return len - start > this.maxRecordChars ? TOO_LONG : NEED_MORE;
          fields.push(buf.slice(i, stop));
          this.problemField = 0;
          i = stop;
          break;
        }
      } else {
        const stop = Math.min(this.comma(i), this.lf(i), this.cr(i));
        if (stop >= len && !eof) return len - start > this.maxRecordChars ? TOO_LONG : NEED_MORE;
        fields.push(buf.slice(i, stop));
        i = stop;
      }
      if (i - start > this.maxRecordChars) return TOO_LONG;
      const c = buf.charCodeAt(i);
      if (c === COMMA) {
        i++;
        continue;
      }
      // the end of the record: a line break or the end of the file
      if (c === CR && i + 1 >= len && !eof) return NEED_MORE;
      this.end = i;
      this.next = i + this.breakLength(i);
      return DONE;
    }
  }
}

/**
 * The records of a CSV stream in batches (one per chunk read), in file order. Batches keep the
 * per-record cost a plain loop, not an await.
 */
export async function* csvRecordBatches(input: AsyncIterable<Buffer | string> | Readable, options: CsvReadOptions): AsyncGenerator<CsvItem[]> {
  const t = new Tokenizer(options.maxRecordChars);
  const decoder = new Decoder(options.encoding ?? 'utf-8');
  let bomChecked = false;
  let encodingReported = false;
  // Skipping the rest of an over-long line (unquoted): its items are reported already.
  let skippingLine = false;
  // Fields of the first record (the header): a record spanning lines with another count is an unbalanced quote.
  let headerFields: number | undefined;

  const drain = (eof: boolean, out: CsvItem[]): void => {
    for (;;) {
      if (skippingLine) {
        const end = t.lineEnd(t.pos);
        if (end >= t.buf.length) {
          t.pos = t.buf.length; // drop it: memory stays bounded
          if (!eof) return;
          skippingLine = false;
          return;
        }
        if (t.buf.charCodeAt(end) === CR && end + 1 >= t.buf.length && !eof) {
          t.pos = end;
          return;
        }
        t.pos = end + t.breakLength(end);
        t.line++;
        skippingLine = false;
      }
      if (!t.skipEmptyLines(eof)) return;
      if (t.pos >= t.buf.length) return;
      const start = t.pos;
      const status = t.record(eof);
      if (status === NEED_MORE) return;
      if (status === DONE && (t.breaks === 0 || headerFields === undefined || t.fields.length === headerFields)) {
        headerFields ??= t.fields.length;
        out.push({ kind: 'record', line: t.line, fields: t.fields, raw: t.buf.slice(start, t.end) });
        t.line += t.breaks + (t.next > t.end ? 1 : 0);
        t.pos = t.next;
        continue;
      }
      // Malformed: report the record's first line, then go on reading at the line after it.
      t.rewound();
      const firstLineEnd = t.lineEnd(start);
      const raw = clip(t.buf.slice(start, firstLineEnd));
      const reason =
        status === DONE
          ? `a quote opened on this line closes ${t.breaks} line${t.breaks > 1 ? 's' : ''} further on, in a record of ${t.fields.length} fields instead of the header's ${headerFields}: taken as an unbalanced quote; this line is quarantined and the lines after it are read as records`
          : status === UNTERMINATED
          ? `unterminated quoted field (field ${t.problemField}): no closing quote before the end of the file; this line is quarantined and the lines after it are read as records`
          : `record longer than ${options.maxRecordChars.toLocaleString('en-US')} characters (INGEST_MAX_RECORD_CHARS)${t.problemField > 0 ? `; field ${t.problemField} opens a quote that does not close within it` : ''}; this line is quarantined and the lines after it are read as records`;
      out.push({ kind: 'malformed', line: t.line, reason, raw });
      if (firstLineEnd >= t.buf.length) {
        // one line longer than the limit: drop what we have and skip to its end
        t.pos = t.buf.length;
        skippingLine = !eof;
        return;
      }
      t.pos = firstLineEnd + t.breakLength(firstLineEnd);
      t.line++;
    }
  };

  const feed = (text: string, bad: { before: string; byte: number; guess: string; context: string } | undefined, eof: boolean): CsvItem[] => {
    const out: CsvItem[] = [];
    let before = bad?.before ?? '';
    if (!bomChecked && (text.length > 0 || bad)) {
      bomChecked = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (before.charCodeAt(0) === 0xfeff) before = before.slice(1);
    }
    if (bad && !encodingReported) {
      encodingReported = true;
      // where the bad byte is: the lines before it in the text not consumed yet
      const pending = t.buf.slice(t.pos) + before;
      const line = t.line + lineBreaks(pending);
      const lastBreak = Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r'));
      const column = [...pending.slice(lastBreak + 1)].length + 1;
      const hex = `0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')}`;
      out.push({
        kind: 'encoding',
        line,
        column,
        reason: `not UTF-8: byte ${hex} at line ${line}, column ${column}; looks like ${bad.guess} (as such it reads "${bad.context}"). Save the file as UTF-8, or declare its encoding in the source's contract`,
      });
    }
    t.append(text);
    drain(eof, out);
    return out;
  };

  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (bytes.length === 0) continue;
    const { text, bad } = decoder.decode(bytes, false);
    const out = feed(text, bad, false);
    if (out.length > 0) yield out;
  }
  const { text, bad } = decoder.decode(Buffer.alloc(0), true);
  const out = feed(text, bad, true);
  if (out.length > 0) yield out;
}

/** The records one at a time (tests, small files). */
export async function* csvRecords(input: AsyncIterable<Buffer | string> | Readable, options: CsvReadOptions = { maxRecordChars: 1 << 20 }): AsyncGenerator<CsvItem> {
  for await (const batch of csvRecordBatches(input, options)) yield* batch;
}
