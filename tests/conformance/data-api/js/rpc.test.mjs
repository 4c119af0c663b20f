// RPC through postgrest-js: `order_summary(order_id uuid)` (one JSON object, or null) and
// `store_order_stats(store_id text)` (rows), by POST and by GET, with filters on a set-returning
// function, compared with the same facts read directly with SQL.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  assertSummary, clientWithToken, expectedSummary, failed, ok, order, service, sqlRows,
} from './helpers.mjs';

const statsSql = `SELECT status, count(*) AS orders, sum(total_cents)::bigint AS total_cents
                  FROM api.orders WHERE store_id = $1 GROUP BY status ORDER BY status`;

describe('rpc', () => {
  test('order_summary by POST', async () => {
    const got = ok(await service().rpc('order_summary', { order_id: order(1) }), 200);
    assertSummary(got, await expectedSummary(order(1)));
  });

  test('order_summary by GET', async () => {
    const got = ok(await service().rpc('order_summary', { order_id: order(7) }, { get: true }), 200);
    assertSummary(got, await expectedSummary(order(7)));
  });

  test('order_summary of an order with a null customer', async () => {
    const got = ok(await service().rpc('order_summary', { order_id: order(3) }));
    assertSummary(got, await expectedSummary(order(3)));
  });

  test('order_summary of no such order is null', async () => {
    const res = await service().rpc('order_summary', { order_id: '00000000-0000-4000-8000-0000000000ff' });
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.equal(res.data, null);
  });

  test('store_order_stats by POST', async () => {
    const got = ok(await service().rpc('store_order_stats', { store_id: 'tonys-pizza' }), 200);
    assert.deepEqual(got, await sqlRows(statsSql, ['tonys-pizza']));
  });

  test('store_order_stats by GET, filtered and ordered like a table', async () => {
    const got = ok(
      await service()
        .rpc('store_order_stats', { store_id: 'la-casita' }, { get: true })
        .neq('status', 'rejected')
        .order('orders', { ascending: false })
        .order('status'),
    );
    const want = await sqlRows(
      `SELECT * FROM (${statsSql}) s WHERE status <> 'rejected' ORDER BY orders DESC, status`,
      ['la-casita'],
    );
    assert.deepEqual(got, want);
  });

  test('store_order_stats with a select list', async () => {
    const got = ok(await service().rpc('store_order_stats', { store_id: 'bean-there' }).select('status,orders').order('status'));
    assert.deepEqual(got, await sqlRows(`SELECT status, orders FROM (${statsSql}) s ORDER BY status`, ['bean-there']));
  });

  test('an unknown function: PGRST202, 404', async () => {
    failed(await service().rpc('nonesuch', {}), 404, 'PGRST202');
  });

  test('anonymous callers may not call: 401', async () => {
    const res = await clientWithToken(null).rpc('store_order_stats', { store_id: 'tonys-pizza' });
    assert.notEqual(res.error, null, JSON.stringify(res.data));
    assert.equal(res.status, 401);
  });
});
