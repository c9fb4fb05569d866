// denials.test.mjs: what a client sees when mcpauth says no: 401 without a
// key or with a revoked one, 429 with Retry-After beyond the rate limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, keys, post } from './harness.mjs';

const INIT = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

test('no key: the SDK fails to connect with 401', async () => {
  await assert.rejects(connect(undefined), (err) => err.code === 401);
});

test('no key: 401 with WWW-Authenticate: Bearer and the reason in the body', async () => {
  const res = await post(undefined, undefined, INIT);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Bearer /);
  assert.doesNotMatch(res.headers.get('www-authenticate'), /error=/);
  assert.equal(res.body.error.data.reason, 'no_credentials');
  assert.equal(res.body.id, 1);
});

test('revoked key: the SDK fails to connect with 401, invalid_token', async () => {
  await assert.rejects(connect(keys.revoked), (err) => err.code === 401);
  const res = await post(keys.revoked, undefined, INIT);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
  assert.equal(res.body.error.data.reason, 'revoked');
  assert.ok(!JSON.stringify(res.body).includes(keys.revoked), 'the key is never echoed');
});

test('a burst beyond the rate limit gets 429 with Retry-After', async () => {
  const { client, transport } = await connect(keys.burst);
  try {
    const ping = (i) => post(keys.burst, transport.sessionId, { jsonrpc: '2.0', id: 100 + i, method: 'ping' });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => ping(i)));
    const limited = answers.filter((a) => a.status === 429);
    const served = answers.filter((a) => a.status === 200);
    assert.equal(limited.length + served.length, answers.length, 'every answer is 200 or 429');
    assert.ok(served.length >= 1, 'the burst allowance serves some');
    assert.ok(limited.length >= 1, 'beyond the burst, requests are limited');
    for (const a of limited) {
      assert.ok(Number(a.headers.get('retry-after')) >= 1);
      assert.equal(a.body.error.data.reason, 'rate_limited');
    }
  } finally {
    await client.close();
  }
});
