import { describe, expect, it } from 'vitest';
import { getOutbound, OutboundError } from './outbound.js';

const options = {
  timeoutMs: 2000,
  maxBytes: 1024,
  allowListName: 'KAITIAKI_SOURCE_ALLOWED_HOSTS',
  what: 'the list',
};

async function refusal(url: string, allowedHosts: string[] = []): Promise<OutboundError> {
  try {
    await getOutbound(url, {}, { allowedHosts }, options);
  } catch (err) {
    if (err instanceof OutboundError) return err;
    throw err;
  }
  throw new Error(`${url} was fetched`);
}

describe('outbound GETs', () => {
  it('refuses plain http and internal addresses outside the allow-list, naming the setting', async () => {
    const http = await refusal('http://127.0.0.1:9/list.csv');
    expect(http.code).toBe('KAI_ERR_URL_NOT_HTTPS');
    expect(http.message).toMatch(/KAITIAKI_SOURCE_ALLOWED_HOSTS/);
    for (const url of [
      'https://127.0.0.1:9/x',
      'https://10.1.2.3/x',
      'https://169.254.169.254/latest',
      'https://[::1]/x',
    ]) {
      const err = await refusal(url);
      expect(err.code, url).toBe('KAI_ERR_URL_INTERNAL');
    }
    // A name that resolves to loopback is refused on the address connected to.
    const named = await refusal('https://localhost:9/x');
    expect(named.code).toBe('KAI_ERR_URL_INTERNAL');
    // Allow-listed: the request is made (and here fails to connect, which is a different error).
    const allowed = await refusal('http://127.0.0.1:9/x', ['127.0.0.1:9']);
    expect(allowed.code).toBe('KAI_ERR_OUTBOUND_FAILED');
  });
});
