import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importEntries } from '../../src/banks/transfer.js';
import { BankService, type Bank } from '../../src/store/banks.js';
import type { Database } from '../../src/store/database.js';
import { EntryService } from '../../src/store/entries.js';
import { OrganisationService } from '../../src/store/organisations.js';
import { freshDatabase, TEST_DIALECTS, type TestDatabase } from '../helpers/databases.js';

const hex = (i: number) => i.toString(16).padStart(64, '0');

/** A stream that hands the text over in pieces cut at the given byte offsets (mid-line, mid-\r\n, mid-character). */
function chunked(text: string, cuts: number[]): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const edges = [0, ...cuts, bytes.length];
  return Readable.from(edges.slice(1).map((end, i) => bytes.subarray(edges[i], end)));
}

describe.each(TEST_DIALECTS)('bank import on %s', (dialect) => {
  let test: TestDatabase;
  let db: Database;
  let entries: EntryService;
  let orgId: number;
  let bankNumber = 0;

  beforeAll(async () => {
    test = await freshDatabase(dialect);
    db = test.db;
    entries = new EntryService(db.db);
    orgId = (await new OrganisationService(db.db).create('Importer')).id;
  });
  afterAll(async () => {
    await db.close();
    await test.cleanup();
  });

  const newBank = (): Promise<Bank> =>
    new BankService(db.db).create(orgId, { name: `IMPORT_${++bankNumber}` });
  const run = (bank: Bank, input: Readable, batchSize: number, stopOnError = false) =>
    importEntries(entries, bank, input, { format: 'csv', contributorOrgId: orgId, batchSize, stopOnError });
  const listed = async (bank: Bank) =>
    (await entries.list(bank.id, { limit: 100 })).items.map((e) => [e.value, e.labels.join('|')]);

  it('keeps file order, first-wins, line numbers and idempotency across batch and chunk boundaries', async () => {
    const bank = await newBank();
    // Batches of 3 lines; the stream's pieces cut a \r\n in two and a two-byte character in two.
    const text =
      'signal_type,value,labels,note\r\n' +
      `pdq,${hex(9)},a,\r\n` + // line 2
      `pdq,${hex(3)},b,\r\n` + // 3
      `pdq,${hex(9)},c,\r\n` + // 4: the same key as line 2, in the same batch
      `md5,not-a-digest,x,\r` + // 5: a lone \r ends a line, as readline has it
      `pdq,${hex(5)},d,café\n` + // 6
      `\n` + // 7: blank, still counted
      `pdq,${hex(3)},e,\n` + // 8: the same key as line 3, in a later batch
      `pdq,nothex,f,\n` + // 9: bad, after two batch boundaries
      `pdq,${hex(1)},g,\n`; // 10
    const crlf = text.indexOf('\r\n', 40) + 1;
    const accent = Buffer.from(text).indexOf('é') + 1;
    const first = await run(bank, chunked(text, [crlf, accent]), 3);
    expect(first).toMatchObject({ lines: 8, inserted: 4, duplicates: 2, errors: 2 });
    expect(first.errorSamples.map((e) => e.line)).toEqual([5, 9]);
    // Ids follow the file; of two lines with one key, the first one's labels stay.
    expect(await listed(bank)).toEqual([
      [hex(9), 'a'],
      [hex(3), 'b'],
      [hex(5), 'd'],
      [hex(1), 'g'],
    ]);
    expect((await entries.list(bank.id)).items[2].note).toBe('café');

    const again = await run(bank, chunked(text, [7, 100, 101]), 2);
    expect(again).toMatchObject({ lines: 8, inserted: 0, duplicates: 6, errors: 2 });
    expect(again.errorSamples.map((e) => e.line)).toEqual([5, 9]);
    expect(await entries.count(bank.id)).toBe(4);
  });

  it('stops at the first bad line after a batch boundary with what came before it committed', async () => {
    const bank = await newBank();
    const lines = [
      'signal_type,value',
      `pdq,${hex(1)}`,
      `pdq,${hex(2)}`,
      `pdq,${hex(3)}`,
      'pdq,zz',
      `pdq,${hex(4)}`,
    ];
    await expect(run(bank, Readable.from([lines.join('\n')]), 2, true)).rejects.toMatchObject({
      code: 'KAI_ERR_IMPORT_LINE',
      message: expect.stringMatching(/^line 5: .*\(import stopped; 3 entries added before it\)$/),
    });
    expect(await listed(bank)).toEqual([hex(1), hex(2), hex(3)].map((v) => [v, '']));
  });

  it('takes a batch larger than one INSERT statement in one piece, sequence numbers in file order', async () => {
    const bank = await newBank();
    const values = Array.from({ length: 2500 }, (_, i) => hex(5000 - i));
    values[1700] = values[10]; // a key repeated in a later statement of the same batch
    const before = await entries.currentSeq();
    const report = await run(
      bank,
      Readable.from(['signal_type,value\n' + values.map((v) => `pdq,${v}`).join('\n')]),
      10_000,
    );
    expect(report).toMatchObject({ lines: 2500, inserted: 2499, duplicates: 1, errors: 0 });
    const changes = await entries.changesSince(before, 5000);
    expect(changes.map((c) => (c.kind === 'upsert' ? c.value : ''))).toEqual(
      values.filter((_, i) => i !== 1700),
    );
    const seqs = changes.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
