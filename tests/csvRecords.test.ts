import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvRecords, type CsvItem } from '../functions/ingest/csvRecords.js';

async function all(text: string, chunkSize = 3): Promise<CsvItem[]> {
  const buf = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
  const out: CsvItem[] = [];
  for await (const item of csvRecords(Readable.from(chunks))) out.push(item);
  return out;
}

describe('csvRecords', () => {
  it('handles BOM, CRLF, quoted commas and newlines, empty lines, and reports start lines', async () => {
    // tiny chunks split the BOM, CRLF pairs and multi-byte characters across reads
    const items = await all('\ufeffid,name\r\n1,"Acme, Inc"\r\n2,"two\r\nlines"\r\n\r\n3,Zoë\r\n\r\n\r\n');
    expect(items.map((i) => (i.kind === 'record' ? [i.line, i.fields] : i))).toEqual([
      [1, ['id', 'name']],
      [2, ['1', 'Acme, Inc']],
      [3, ['2', 'two\nlines']],
      [6, ['3', 'Zoë']],
    ]);
  });

  it('keeps stray quotes as text, so the rows after them go on', async () => {
    const items = await all('id,name\n1,ok\n2,"bad"quote\n3,bad"quote\n4,fine\n');
    expect(items.map((i) => (i.kind === 'record' ? i.fields : i.kind))).toEqual([['id', 'name'], ['1', 'ok'], ['2', '"bad"quote'], ['3', 'bad"quote'], ['4', 'fine']]);
  });

  it('reports an unclosed quote, in file order, with the line it starts on', async () => {
    const items = await all('id,name\n1,ok\n2,"never closed\n3,x\n');
    expect(items.map((i) => [i.kind, i.line])).toEqual([['record', 1], ['record', 2], ['malformed', 3]]);
    expect(items[2]!.kind === 'malformed' && items[2]!.reason).toMatch(/Quote Not Closed/);
  });

  it('reports rows with a wrong field count as records (the caller decides)', async () => {
    const items = await all('a,b,c\n1,2\n1,2,3,4\n');
    expect(items.map((i) => (i.kind === 'record' ? i.fields.length : -1))).toEqual([3, 2, 4]);
  });
});
