/**
 * The signal type is the whole extension point. A fixture type defined and registered in this file only (a CRC-32
 * of some external tool, exact match) is stored, indexed and matched end to end through /v1/match and the HMA
 * facade; and every registered type, built-in or not, goes through hash value → store → index → match → facade.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { registerSignalType, SIGNAL_TYPES } from '../../src/signals/registry.js';
import type { SignalType } from '../../src/signals/signal-type.js';
import { exactTypeIndex } from '../../src/signals/type-indexes.js';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

const crc32Fixture: SignalType = {
  name: 'crc32_fixture',
  description: 'CRC-32 of the file bytes (8 hex characters), a fixture type registered by a test',
  contentTypes: ['other'],
  matchKind: 'exact',
  defaultThreshold: 0,
  maxThreshold: 0,
  perBankThresholds: true,
  examples: ['cbf43926', '00000000'],
  normalize(value) {
    if (typeof value !== 'string' || !/^[0-9a-fA-F]{8}$/.test(value.trim()))
      throw new ValidationError('a crc32_fixture value is 8 hex characters', 'KAI_ERR_HASH_INVALID');
    return value.trim().toLowerCase();
  },
  compare: (a, b) => ({ distance: a === b ? 0 : 1, match: a === b }),
  createIndex: exactTypeIndex,
  hma: { name: 'crc32_hma', bankedFor: [] },
  display: { label: 'CRC-32 (fixture)', short: (value) => value },
};
registerSignalType(crc32Fixture);

describe.each(TEST_DIALECTS)('a signal type is one file and one registration, on %s', (dialect) => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp(dialect);
    key = (await t.organisation('Extender', 'moderator')).key;
  });
  afterAll(() => t.close());

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload }) });

  it('matches the fixture type through /v1/match and the facade, and refuses a malformed value', async () => {
    const bank = (await call('POST', '/v1/banks', { name: 'CRC_BANK' })).json();
    const added = await call('POST', `/v1/banks/${bank.id}/entries`, {
      signal_type: 'crc32_fixture',
      value: 'CBF43926',
      labels: ['fixture'],
    });
    expect(added.statusCode).toBe(201);
    expect(added.json().value).toBe('cbf43926');

    const matched = await call('POST', '/v1/match', {
      signals: [{ type: 'crc32_fixture', value: 'cbf43926' }],
    });
    expect(matched.statusCode).toBe(200);
    expect(matched.json().matches).toHaveLength(1);
    expect(matched.json().matches[0]).toMatchObject({ signal_type: 'crc32_fixture', distance: 0 });
    expect(matched.json().matches[0].bank.id).toBe(bank.id);

    const miss = await call('POST', '/v1/match', { signals: [{ type: 'crc32_fixture', value: '12345678' }] });
    expect(miss.json().matches).toEqual([]);

    // The facade knows it under its HMA name, both ways.
    const lookup = await call('GET', '/m/lookup?signal_type=crc32_hma&signal=cbf43926');
    expect(lookup.statusCode).toBe(200);
    expect(Object.keys(lookup.json())).toEqual(['CRC_BANK']);
    const viaFacade = await call('POST', '/c/bank/CRC_BANK/signal', { crc32_hma: '0000000A' });
    expect(viaFacade.statusCode).toBe(200);
    expect(Object.values(viaFacade.json().signals ?? {})).toContain('0000000a');
    const again = await call('GET', '/m/lookup?signal_type=crc32_hma&signal=0000000a');
    expect(Object.keys(again.json())).toEqual(['CRC_BANK']);

    const status = (await call('GET', '/v1/index/status')).json().signal_types;
    expect(status.crc32_fixture.size).toBe(2);

    const bad = await call('POST', '/v1/match', { signals: [{ type: 'crc32_fixture', value: 'xyz' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('KAI_ERR_HASH_INVALID');
  });

  it('runs every registered type through store → index → match → facade with its own examples', async () => {
    const bank = (await call('POST', '/v1/banks', { name: 'EVERY_TYPE' })).json();
    for (const type of SIGNAL_TYPES.values()) {
      const [example] = type.examples;
      const added = await call('POST', `/v1/banks/${bank.id}/entries`, {
        signal_type: type.name,
        value: example,
      });
      expect(added.statusCode, `${type.name}: ${added.body}`).toBe(201);
      const matched = (
        await call('POST', '/v1/match', { signals: [{ type: type.name, value: example }], banks: [bank.id] })
      ).json();
      expect(
        matched.matches.some((m: { entry: { id: number } }) => m.entry.id === added.json().id),
        type.name,
      ).toBe(true);
      const hmaName = type.hma?.name ?? type.name;
      const lookup = await call(
        'GET',
        `/m/lookup?signal_type=${hmaName}&signal=${encodeURIComponent(example)}&banks=EVERY_TYPE`,
      );
      expect(lookup.statusCode, `${type.name}: ${lookup.body}`).toBe(200);
      expect(
        lookup.json().EVERY_TYPE?.map((m: { bank_content_id: number }) => m.bank_content_id),
        type.name,
      ).toContain(added.json().id);
    }
  });
});
