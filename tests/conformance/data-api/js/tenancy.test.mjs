// Tenancy through every path: a merchant's token sees only its stores' rows, through plain reads,
// filters naming another merchant's rows, embedding and RPC; a broad PATCH or DELETE touches only
// its rows. An agent sees only the tasks offered or assigned to it and the orders and calls behind
// them. The expected rows come from direct SQL with the tenancy written out by hand.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import {
  agent, assertSummary, expectedSummary, failed, merchantA, merchantB, ok, order, RUN, service, sql, sqlRows, sqlValue,
  ANA, BEN, CY, MERCHANT_A, STORES_A, STORES_B,
} from './helpers.mjs';

const A_STORES = `(SELECT id FROM api.stores WHERE merchant_id = '${MERCHANT_A}')`;

describe('a merchant', () => {
  for (const [table, where, key] of [
    ['stores', `merchant_id = '${MERCHANT_A}'`, 'id'],
    ['calls', `store_id IN ${A_STORES}`, 'call_sid'],
    ['orders', `store_id IN ${A_STORES}`, 'id'],
    ['order_items', `order_id IN (SELECT id FROM api.orders WHERE store_id IN ${A_STORES})`, 'id'],
    ['call_events', `call_sid IN (SELECT call_sid FROM api.calls WHERE store_id IN ${A_STORES})`, 'call_sid, seq'],
    ['menu_items', `store_id IN ${A_STORES}`, 'store_id, sku'],
    ['tasks', `store_id IN ${A_STORES} OR order_id IN (SELECT id FROM api.orders WHERE store_id IN ${A_STORES})
               OR call_sid IN (SELECT call_sid FROM api.calls WHERE store_id IN ${A_STORES})`, 'id'],
  ]) {
    test(`reads only its ${table}`, async () => {
      let q = merchantA().from(table).select('*');
      for (const k of key.split(', ')) q = q.order(k);
      const got = ok(await q);
      const want = await sqlRows(`SELECT * FROM api.${table} WHERE ${where} ORDER BY ${key}`);
      assert.deepEqual(got, want);
      assert.ok(want.length > 0);
      const all = Number(await sqlValue(`SELECT count(*) FROM api.${table}`));
      assert.ok(all > want.length, `the seed should give other merchants ${table} too`);
    });
  }

  test('sees no workers', async () => {
    assert.deepEqual(ok(await merchantA().from('workers').select('*')), []);
  });

  test('a filter naming another merchant\'s store finds nothing', async () => {
    assert.deepEqual(ok(await merchantA().from('orders').select('*').in('store_id', STORES_B)), []);
    assert.deepEqual(ok(await merchantA().from('calls').select('*').eq('store_id', 'la-casita')), []);
    assert.deepEqual(ok(await merchantB().from('orders').select('id').or(`store_id.eq.${STORES_A[0]},store_id.eq.${STORES_A[1]}`)), []);
  });

  test('another merchant\'s order by id: empty, and 406 as a single object', async () => {
    assert.deepEqual(ok(await merchantA().from('orders').select('*').eq('id', order(7))), []);
    failed(await merchantA().from('orders').select('*').eq('id', order(7)).single(), 406, 'PGRST116');
  });

  test('counts only its rows', async () => {
    const res = await merchantB().from('orders').select('*', { count: 'exact', head: true });
    assert.equal(res.count, Number(await sqlValue(`SELECT count(*) FROM api.orders WHERE store_id = 'la-casita'`)));
  });

  test('embedding: stores → orders → order_items shows only its own', async () => {
    const got = ok(
      await merchantB().from('stores').select('id,orders(id,order_items(sku))').order('id'),
    );
    const want = await sqlRows(`
      SELECT s.id, (SELECT coalesce(json_agg(x), '[]'::json) FROM (
                 SELECT o.id, (SELECT coalesce(json_agg(i), '[]'::json) FROM (
                                   SELECT sku FROM api.order_items WHERE order_id = o.id ORDER BY id) i) AS order_items
                 FROM api.orders o WHERE o.store_id = s.id ORDER BY o.id) x) AS orders
      FROM api.stores s WHERE s.id = 'la-casita' ORDER BY s.id`);
    got.forEach((s) => s.orders.sort((a, b) => (a.id < b.id ? -1 : 1)));
    assert.deepEqual(got, want);
  });

  test('embedding from tasks: a task it sees never shows another merchant\'s order', async () => {
    const got = ok(await merchantA().from('tasks').select('id,orders(id,store_id)').order('id'));
    const want = await sqlRows(`
      SELECT t.id, (SELECT row_to_json(x) FROM (SELECT id, store_id FROM api.orders
                                                WHERE id = t.order_id AND store_id IN ${A_STORES}) x) AS orders
      FROM api.tasks t
      WHERE t.store_id IN ${A_STORES} OR t.order_id IN (SELECT id FROM api.orders WHERE store_id IN ${A_STORES})
         OR t.call_sid IN (SELECT call_sid FROM api.calls WHERE store_id IN ${A_STORES})
      ORDER BY t.id`);
    assert.deepEqual(got, want);
  });

  test('!inner on another merchant\'s rows finds nothing', async () => {
    const got = ok(
      await merchantB().from('order_items').select('sku,orders!inner(store_id)').eq('orders.store_id', 'tonys-pizza'),
    );
    assert.deepEqual(got, []);
  });

  test('calls → orders, call_events: only its own', async () => {
    const got = ok(await merchantA().from('calls').select('call_sid,orders(id),call_events(seq)').order('call_sid'));
    const want = await sqlRows(`
      SELECT c.call_sid,
             (SELECT row_to_json(x) FROM (SELECT id FROM api.orders WHERE call_sid = c.call_sid) x) AS orders,
             (SELECT coalesce(json_agg(e), '[]'::json) FROM (
                  SELECT seq FROM api.call_events WHERE call_sid = c.call_sid ORDER BY seq) e) AS call_events
      FROM api.calls c WHERE c.store_id IN ${A_STORES} ORDER BY c.call_sid`);
    got.forEach((c) => c.call_events.sort((a, b) => a.seq - b.seq));
    assert.deepEqual(got, want);
  });

  test('RPC: its own order\'s summary, null for another merchant\'s', async () => {
    assertSummary(ok(await merchantA().rpc('order_summary', { order_id: order(5) })), await expectedSummary(order(5)));
    const other = await merchantA().rpc('order_summary', { order_id: order(8) });
    assert.equal(other.error, null, JSON.stringify(other.error));
    assert.equal(other.data, null);
  });

  test('RPC: no stats for another merchant\'s store', async () => {
    assert.deepEqual(ok(await merchantB().rpc('store_order_stats', { store_id: 'tonys-pizza' })), []);
    const own = ok(await merchantB().rpc('store_order_stats', { store_id: 'la-casita' }));
    assert.equal(own.reduce((n, r) => n + Number(r.orders), 0), Number(await sqlValue(`SELECT count(*) FROM orders WHERE store_id = 'la-casita'`)));
  });
});

describe('a merchant\'s broad writes', () => {
  const scratch = `${RUN} scratch`;

  after(async () => {
    await sql(`DELETE FROM orders WHERE customer_name LIKE $1`, [`${scratch}%`]);
    await sql(`UPDATE orders SET ready_at = NULL WHERE ready_at IS NOT NULL`);
  });

  test('a PATCH with no filter at all changes only its orders', async () => {
    const readyAt = '2030-01-01T12:00:00+00:00';
    const res = await merchantA().from('orders').update({ ready_at: readyAt }).select('id,store_id');
    const got = ok(res, 200);
    const changed = await sqlRows(`SELECT id, store_id FROM api.orders WHERE ready_at = $1 ORDER BY id`, [readyAt]);
    const mine = await sqlRows(`SELECT id, store_id FROM api.orders WHERE store_id IN ${A_STORES} ORDER BY id`);
    assert.deepEqual(changed, mine);
    got.sort((a, b) => (a.id < b.id ? -1 : 1));
    assert.deepEqual(got, mine);
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM orders WHERE store_id = 'la-casita' AND ready_at IS NOT NULL`)), 0);
  });

  test('a PATCH whose filter matches both merchants\' rows changes only its own', async () => {
    for (const [store, n] of [['tonys-pizza', 1], ['bean-there', 2], ['la-casita', 3], ['la-casita', 4]]) {
      await sql(
        `INSERT INTO orders (store_id, status, customer_name, fulfillment, subtotal_cents, tax_cents, total_cents)
         VALUES ($1, 'confirmed', $2, 'pickup', 100, 8, 108)`,
        [store, `${scratch} ${n}`],
      );
    }
    const got = ok(await merchantA().from('orders').update({ status: 'cancelled' }).like('customer_name', `${scratch}*`).select('customer_name,status'));
    got.sort((a, b) => (a.customer_name < b.customer_name ? -1 : 1));
    assert.deepEqual(got, [
      { customer_name: `${scratch} 1`, status: 'cancelled' },
      { customer_name: `${scratch} 2`, status: 'cancelled' },
    ]);
    const now = await sqlRows(`SELECT customer_name, status FROM orders WHERE customer_name LIKE $1 ORDER BY customer_name`, [`${scratch}%`]);
    assert.deepEqual(now, [
      { customer_name: `${scratch} 1`, status: 'cancelled' },
      { customer_name: `${scratch} 2`, status: 'cancelled' },
      { customer_name: `${scratch} 3`, status: 'confirmed' },
      { customer_name: `${scratch} 4`, status: 'confirmed' },
    ]);
  });

  test('a DELETE whose filter matches both merchants\' rows never touches the other\'s', async () => {
    const res = await merchantB().from('orders').delete().like('customer_name', `${scratch}*`);
    // Merchants may not delete orders at all (403), or may delete their own: either way A's stay.
    if (res.error) failed(res, 403, '42501');
    const left = await sqlRows(`SELECT customer_name FROM orders WHERE customer_name LIKE $1 ORDER BY customer_name`, [`${scratch}%`]);
    const names = left.map((r) => r.customer_name);
    assert.ok(names.includes(`${scratch} 1`) && names.includes(`${scratch} 2`), `merchant A's rows survive: ${names}`);
    if (!res.error) assert.deepEqual(names, [`${scratch} 1`, `${scratch} 2`]);
  });

  test('a service DELETE of the same filter removes them all', async () => {
    ok(await service().from('orders').delete().like('customer_name', `${scratch}*`));
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM orders WHERE customer_name LIKE $1`, [`${scratch}%`])), 0);
  });
});

describe('an agent', () => {
  const agentOrders = (worker) => `
    SELECT * FROM api.orders
    WHERE id IN (SELECT order_id FROM api.tasks WHERE worker_id = '${worker}')
       OR call_sid IN (SELECT call_sid FROM api.tasks WHERE worker_id = '${worker}')
    ORDER BY id`;

  for (const [name, worker] of [['Ana', ANA], ['Ben', BEN], ['Cy', CY]]) {
    test(`${name} sees only the orders behind its tasks`, async () => {
      const got = ok(await agent(worker).from('orders').select('*').order('id'));
      assert.deepEqual(got, await sqlRows(agentOrders(worker)));
    });
  }

  test('its tasks, and embedded orders through them', async () => {
    const got = ok(await agent(ANA).from('tasks').select('id,status,orders(id,status)').order('id'));
    const want = await sqlRows(`
      SELECT t.id, t.status, (SELECT row_to_json(x) FROM (SELECT id, status FROM api.orders WHERE id = t.order_id) x) AS orders
      FROM api.tasks t WHERE t.worker_id = '${ANA}' ORDER BY t.id`);
    assert.deepEqual(got, want);
  });

  test('orders → order_items, only for its orders; other orders by id are not there', async () => {
    const got = ok(await agent(BEN).from('orders').select('id,order_items(line_no)').order('id').order('line_no', { referencedTable: 'order_items' }));
    assert.deepEqual(got, [{ id: order(4), order_items: [{ line_no: 1 }, { line_no: 2 }] }]);
    assert.deepEqual(ok(await agent(BEN).from('order_items').select('order_id').neq('order_id', order(4))), []);
    assert.deepEqual(ok(await agent(BEN).from('orders').select('id').eq('id', order(1))), []);
  });

  test('its own worker row only', async () => {
    assert.deepEqual(ok(await agent(CY).from('workers').select('id')), [{ id: CY }]);
  });

  test('RPC: the summary of an order behind its task, null for another', async () => {
    assertSummary(ok(await agent(ANA).rpc('order_summary', { order_id: order(9) })), await expectedSummary(order(9)));
    const other = await agent(ANA).rpc('order_summary', { order_id: order(4) });
    assert.equal(other.error, null, JSON.stringify(other.error));
    assert.equal(other.data, null);
  });

  test('a broad PATCH decides only the orders of the tasks it accepted', async () => {
    // Ana holds order 3's verify task (accepted); 4 and 1 are not hers.
    const ids = [order(3), order(4), order(1)];
    const before = await sqlRows(`SELECT id, status FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
    try {
      const got = ok(await agent(ANA).from('orders').update({ status: 'rejected' }).in('id', ids).select('id,status'));
      assert.deepEqual(got, [{ id: order(3), status: 'rejected' }]);
      const after_ = await sqlRows(`SELECT id, status FROM orders WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids]);
      const expected = before.map((r) => (r.id === order(3) ? { ...r, status: 'rejected' } : r));
      assert.deepEqual(after_, expected);
    } finally {
      for (const r of before) await sql(`UPDATE orders SET status = $2 WHERE id = $1`, [r.id, r.status]);
      await sql(`UPDATE tasks SET status = 'assigned', finished_at = NULL WHERE order_id = $1`, [order(3)]);
    }
  });

  test('an order whose task is only offered is not the agent\'s to decide', async () => {
    const before = await sqlRows(`SELECT id, status FROM orders WHERE id = $1`, [order(9)]);
    const err = failed(await agent(ANA).from('orders').update({ status: 'rejected' }).eq('id', order(9)), 403, '42501');
    assert.match(err.message, /not this agent's to decide/);
    assert.deepEqual(await sqlRows(`SELECT id, status FROM orders WHERE id = $1`, [order(9)]), before);
  });
});
