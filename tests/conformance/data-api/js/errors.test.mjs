// PostgREST's error codes and statuses as postgrest-js reports them, and tokens: expired,
// tampered, signed with another secret, or none.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import jwt from 'jsonwebtoken';

import { clientWithToken, failed, ok, service, sqlValue, token, ANA } from './helpers.mjs';

describe('errors', () => {
  test('PGRST100: an unknown operator', async () => {
    failed(await service().from('orders').select('*').filter('status', 'nope', 'x'), 400, 'PGRST100');
  });

  test('PGRST100: a malformed or=()', async () => {
    failed(await service().from('orders').select('*').or('status.eq'), 400, 'PGRST100');
  });

  test('PGRST100: a malformed select', async () => {
    failed(await service().from('orders').select('id,order_items(sku'), 400, 'PGRST100');
  });

  test('PGRST116: single() on several rows', async () => {
    failed(await service().from('orders').select('*').single(), 406, 'PGRST116');
  });

  test('PGRST200: embedding without a relationship', async () => {
    failed(await service().from('orders').select('*,workers(*)'), 400, 'PGRST200');
  });

  test('an unknown column in select: PGRST204 or 42703', async () => {
    failed(await service().from('orders').select('id,nonesuch'), 400, ['PGRST204', '42703']);
  });

  test('an unknown column in a filter: PGRST204 or 42703', async () => {
    failed(await service().from('orders').select('id').eq('nonesuch', 1), 400, ['PGRST204', '42703']);
  });

  test('PGRST205: an unknown table', async () => {
    failed(await service().from('nonesuch').select('*'), 404, 'PGRST205');
  });

  test('22P02 (bad value for the column type) is a 400', async () => {
    failed(await service().from('orders').select('id').eq('total_cents', 'many'), 400, '22P02');
  });

  test('PGRST301: an expired token', async () => {
    const expired = token({ role: 'service' }, -3600);
    failed(await clientWithToken(expired).from('orders').select('id'), 401, 'PGRST301');
  });

  test('PGRST301: a tampered token (claims changed, signature kept)', async () => {
    const [header, , signature] = token({ role: 'agent', worker_id: ANA }).split('.');
    const forged = Buffer.from(JSON.stringify({ role: 'service', exp: Math.floor(Date.now() / 1000) + 600 }))
      .toString('base64url');
    failed(await clientWithToken(`${header}.${forged}.${signature}`).from('orders').select('id'), 401, 'PGRST301');
  });

  test('PGRST301: a token signed with another secret', async () => {
    const other = jwt.sign({ role: 'service', exp: Math.floor(Date.now() / 1000) + 600 }, 'not-the-secret-0123456789abcdef-0123456789');
    failed(await clientWithToken(other).from('orders').select('id'), 401, 'PGRST301');
  });

  test('PGRST301: garbage', async () => {
    failed(await clientWithToken('not.a.jwt').from('orders').select('id'), 401, 'PGRST301');
  });

  test('a token within the 30 s leeway still works', async () => {
    const res = await clientWithToken(token({ role: 'service' }, -5)).from('stores').select('id').order('id');
    const got = ok(res);
    assert.equal(got.length, Number(await sqlValue(`SELECT count(*) FROM api.stores`)));
  });

  test('no token: anonymous, refused with 401', async () => {
    const res = await clientWithToken(null).from('orders').select('id');
    assert.notEqual(res.error, null, JSON.stringify(res.data));
    assert.equal(res.status, 401);
  });

  test('an unknown role claim is refused', async () => {
    const res = await clientWithToken(token({ role: 'postgres' })).from('orders').select('id');
    assert.notEqual(res.error, null, JSON.stringify(res.data));
    assert.ok([401, 403].includes(res.status), `status ${res.status}`);
  });
});
