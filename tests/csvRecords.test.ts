import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvRecords, type CsvItem } from '../functions/ingest/csvRecords.js';

async function all(input: string | Buffer, options: { chunkSize?: number; maxRecordChars?: number; encoding?: 'utf-8' | 'windows-1252' } = {}): Promise<CsvItem[]> {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const chunkSize = options.chunkSize ?? 3;
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
  const out: CsvItem[] = [];
  for await (const item of csvRecords(Readable.from(chunks), { maxRecordChars: options.maxRecordChars ?? 1 << 20, encoding: options.encoding })) out.push(item);
  return out;
}

const summary = (items: CsvItem[]) => items.map((i) => (i.kind === 'record' ? [i.line, i.fields] : [i.line, i.kind]));

describe('csvRecords', () => {
  it('handles BOM, CRLF, quoted commas and newlines, empty lines, and reports start lines', async () => {
    // tiny chunks split the BOM, CRLF pairs and multi-byte characters across reads
    for (const chunkSize of [1, 2, 3, 5, 4096]) {
      const items = await all('\ufeffid,name\r\n1,"Acme, Inc"\r\n2,"two\r\nlines"\r\n\r\n3,Zoë\r\n\r\n\r\n', { chunkSize });
      expect(summary(items)).toEqual([
        [1, ['id', 'name']],
        [2, ['1', 'Acme, Inc']],
        [3, ['2', 'two\nlines']],
        [6, ['3', 'Zoë']],
      ]);
    }
  });

  it('treats LF, CRLF and a lone CR alike as line breaks: two rows never merge', async () => {
    const items = await all('id,name\r1,a\r\n2,b\n3,"x\ry"\r4,d');
    expect(summary(items)).toEqual([
      [1, ['id', 'name']],
      [2, ['1', 'a']],
      [3, ['2', 'b']],
      [4, ['3', 'x\ry']],
      [6, ['4', 'd']],
    ]);
  });

  it('keeps stray quotes as text, so the rows after them go on', async () => {
    const items = await all('id,name\n1,ok\n2,"bad"quote\n3,bad"quote\n4,fine\n5,"a ""quoted"" word"\n');
    expect(items.map((i) => (i.kind === 'record' ? i.fields : i.kind))).toEqual([['id', 'name'], ['1', 'ok'], ['2', '"bad"quote'], ['3', 'bad"quote'], ['4', 'fine'], ['5', 'a "quoted" word']]);
    expect(items[3]!.kind === 'record' && items[3]!.raw).toBe('3,bad"quote');
  });

  it('reports a quote still open at the end of the file on the line it opens, and reads the lines after it', async () => {
    const items = await all('id,name\n1,ok\n2,"never closed\n3,x\n');
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['record', 2], ['malformed', 3], ['record', 4]]);
    expect(items[2]).toMatchObject({ raw: '2,"never closed', reason: expect.stringMatching(/^unterminated quoted field \(field 2\): no closing quote before the end of the file/) as unknown });
  });

  it('bounds a record: an over-long one is reported at its first line and reading resumes at the next line', async () => {
    const long = 'x'.repeat(200);
    const items = await all(`id,name\n1,"${long}\n2,ok\n3,${long}\n4,"multi\nline"\n`, { maxRecordChars: 100, chunkSize: 7 });
    expect(summary(items)).toEqual([
      [1, ['id', 'name']],
      [2, 'malformed'],
      [3, ['2', 'ok']],
      [4, 'malformed'],
      [5, ['4', 'multi\nline']],
    ]);
    expect(items[1]!.kind === 'malformed' && items[1]!.reason).toMatch(/record longer than 100 characters \(INGEST_MAX_RECORD_CHARS\); field 2 opens a quote that does not close within it/);
    expect(items[3]!.kind === 'malformed' && items[3]!.reason).not.toMatch(/quote/);
    expect(items[3]!.kind === 'malformed' && items[3]!.raw.length).toBeLessThanOrEqual(1001);
  });

  it('takes a quote that closes only at a later line\'s quote, in a record of another width than the header, as unbalanced: one line lost, not two', async () => {
    const items = await all('id,name,country\n1,"Acme,DE\n2,"Globex, Inc",FR\n3,Initech,US\n');
    expect(summary(items)).toEqual([
      [1, ['id', 'name', 'country']],
      [2, 'malformed'],
      [3, ['2', 'Globex, Inc', 'FR']],
      [4, ['3', 'Initech', 'US']],
    ]);
    expect(items[1]).toMatchObject({ raw: '1,"Acme,DE', reason: expect.stringMatching(/^a quote opened on this line closes 1 line further on, in a record of 4 fields instead of the header's 3/) as unknown });
  });

  it('reports rows with a wrong field count as records (the caller decides)', async () => {
    const items = await all('a,b,c\n1,2\n1,2,3,4\n');
    expect(items.map((i) => (i.kind === 'record' ? i.fields.length : -1))).toEqual([3, 2, 4]);
  });

  it('names bytes that are not UTF-8: line, column, byte and the encoding they look like, never U+FFFD', async () => {
    const latin1 = Buffer.concat([Buffer.from('id,name\n1,ok\n2,M'), Buffer.from([0xfc]), Buffer.from('ller\n3,x\n')]);
    const items = await all(latin1, { chunkSize: 4096 });
    expect(items.find((i) => i.kind === 'encoding')).toEqual({
      kind: 'encoding',
      line: 3,
      column: 4,
      reason: 'not UTF-8: byte 0xFC at line 3, column 4; looks like Latin-1/Windows-1252 (as such it reads "2,Müller"). Save the file as UTF-8, or declare its encoding in the source\'s contract',
    });
    // the rest is still read (as Windows-1252), so the caller can count the rows
    expect(summary(items.filter((i) => i.kind !== 'encoding'))).toEqual([[1, ['id', 'name']], [2, ['1', 'ok']], [3, ['2', 'Müller']], [4, ['3', 'x']]]);
    expect(JSON.stringify(items)).not.toContain('\ufffd');

    const cp1252 = await all(Buffer.concat([Buffer.from('a\n'), Buffer.from([0x93, 0x41, 0x94])]));
    expect(cp1252.find((i) => i.kind === 'encoding')).toMatchObject({ kind: 'encoding', line: 2, column: 1, reason: expect.stringContaining('byte 0x93 at line 2, column 1; looks like Windows-1252') as unknown });
    const utf16 = await all(Buffer.from('\ufeffid,name\n', 'utf16le'));
    expect(utf16[0]).toMatchObject({ kind: 'encoding', line: 1, column: 1, reason: expect.stringContaining('looks like UTF-16') as unknown });
    // a sequence cut off by the end of the file
    const cut = await all(Buffer.from([0x61, 0x0a, 0xe2, 0x82]));
    expect(cut.find((i) => i.kind === 'encoding')).toMatchObject({ kind: 'encoding', line: 2, column: 1 });
  });

  it('decodes a declared Windows-1252 file', async () => {
    const items = await all(Buffer.concat([Buffer.from('id,name\n1,M'), Buffer.from([0xfc]), Buffer.from('ller '), Buffer.from([0x80]), Buffer.from('\n')]), { encoding: 'windows-1252' });
    expect(summary(items)).toEqual([[1, ['id', 'name']], [2, ['1', 'Müller €']]]);
  });
});
