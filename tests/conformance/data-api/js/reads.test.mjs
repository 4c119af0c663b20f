// Reads beyond filters: select lists (aliases, casts, JSON paths), embedding, ordering with nulls
// placement, limit/offset/range, counts, single objects and CSV, each compared with direct SQL.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { failed, ok, order, parseCsv, service, sql, sqlRows, sqlValue } from './helpers.mjs';

describe('select', () => {
  test('aliases and casts', async () => {
    const got = ok(
      await service()
        .from('orders')
        .select('order_id:id,total:total_cents::text,customer_name,when:created_at::date,confidence::numeric')
        .order('id'),
    );
    const want = await sqlRows(`
      SELECT id AS order_id, total_cents::text AS total, customer_name, created_at::date AS "when",
             confidence::numeric AS confidence
      FROM api.orders ORDER BY id`);
    assert.deepEqual(got, want);
    assert.equal(typeof got[0].total, 'string');
  });

  test('JSON paths (-> and ->>) with aliases', async () => {
    const got = ok(
      await service()
        .from('call_events')
        .select('call_sid,seq,text:payload->>text,step:payload->seq')
        .order('call_sid')
        .order('seq'),
    );
    const want = await sqlRows(`
      SELECT call_sid, seq, payload->>'text' AS text, payload->'seq' AS step
      FROM api.call_events ORDER BY call_sid, seq`);
    assert.deepEqual(got, want);
  });
});

describe('embedding', () => {
  test('orders → order_items', async () => {
    const got = ok(
      await service()
        .from('orders')
        .select('id,status,order_items(line_no,sku,quantity,modifiers)')
        .order('id')
        .order('line_no', { referencedTable: 'order_items' }),
    );
    const want = await sqlRows(`
      SELECT o.id, o.status,
             (SELECT coalesce(json_agg(i), '[]'::json) FROM (
                 SELECT line_no, sku, quantity, modifiers FROM api.order_items
                 WHERE order_id = o.id ORDER BY line_no) i) AS order_items
      FROM api.orders o ORDER BY o.id`);
    assert.deepEqual(got, want);
  });

  test('calls → orders (one-to-one: an object or null) and calls → call_events', async () => {
    const got = ok(
      await service()
        .from('calls')
        .select('call_sid,outcome,orders(id,total_cents),call_events(seq,kind)')
        .order('call_sid')
        .order('seq', { referencedTable: 'call_events', ascending: false }),
    );
    const want = await sqlRows(`
      SELECT c.call_sid, c.outcome,
             (SELECT row_to_json(x) FROM (SELECT id, total_cents FROM api.orders
                                          WHERE call_sid = c.call_sid) x) AS orders,
             (SELECT coalesce(json_agg(e), '[]'::json) FROM (
                 SELECT seq, kind FROM api.call_events WHERE call_sid = c.call_sid
                 ORDER BY seq DESC) e) AS call_events
      FROM api.calls c ORDER BY c.call_sid`);
    assert.deepEqual(got, want);
    assert.ok(got.some((c) => c.orders === null) && got.some((c) => c.orders !== null));
  });

  test('tasks → orders (many-to-one: an object) with an alias', async () => {
    const got = ok(
      await service().from('tasks').select('id,kind,order:orders(id,status)').order('id'),
    );
    const want = await sqlRows(`
      SELECT t.id, t.kind,
             (SELECT row_to_json(x) FROM (SELECT id, status FROM api.orders
                                          WHERE id = t.order_id) x) AS "order"
      FROM api.tasks t ORDER BY t.id`);
    assert.deepEqual(got, want);
  });

  test('!inner with a filter on the embedded resource filters the parents', async () => {
    const got = ok(
      await service()
        .from('orders')
        .select('id,order_items!inner(sku)')
        .eq('order_items.sku', 'burrito')
        .order('id'),
    );
    const want = await sqlRows(`
      SELECT o.id, (SELECT json_agg(i) FROM (SELECT sku FROM api.order_items
                                            WHERE order_id = o.id AND sku = 'burrito') i) AS order_items
      FROM api.orders o
      WHERE EXISTS (SELECT 1 FROM api.order_items WHERE order_id = o.id AND sku = 'burrito')
      ORDER BY o.id`);
    assert.deepEqual(got, want);
    assert.equal(want.length, 2);
  });

  test('a filter on a plain embedding keeps every parent', async () => {
    const got = ok(
      await service()
        .from('calls')
        .select('call_sid,call_events(seq)')
        .eq('call_events.kind', 'twiml')
        .order('call_sid'),
    );
    const want = await sqlRows(`
      SELECT c.call_sid, (SELECT coalesce(json_agg(e), '[]'::json) FROM (
                 SELECT seq FROM api.call_events WHERE call_sid = c.call_sid AND kind = 'twiml') e) AS call_events
      FROM api.calls c ORDER BY c.call_sid`);
    assert.deepEqual(got, want);
  });

  test('nested embedding: calls → orders → order_items', async () => {
    const got = ok(
      await service()
        .from('calls')
        .select('call_sid,orders!inner(id,order_items(sku))')
        .eq('store_id', 'la-casita')
        .order('call_sid'),
    );
    const want = await sqlRows(`
      SELECT c.call_sid,
             (SELECT row_to_json(x) FROM (
                 SELECT o.id, (SELECT coalesce(json_agg(i), '[]'::json) FROM (
                                   SELECT sku FROM api.order_items WHERE order_id = o.id ORDER BY id) i) AS order_items
                 FROM api.orders o WHERE o.call_sid = c.call_sid) x) AS orders
      FROM api.calls c
      WHERE c.store_id = 'la-casita' AND EXISTS (SELECT 1 FROM api.orders WHERE call_sid = c.call_sid)
      ORDER BY c.call_sid`);
    assert.deepEqual(got, want);
  });
});

describe('ordering', () => {
  for (const [name, opts, sqlOrder] of [
    ['asc nulls first', { ascending: true, nullsFirst: true }, 'ASC NULLS FIRST'],
    ['asc nulls last', { ascending: true, nullsFirst: false }, 'ASC NULLS LAST'],
    ['desc nulls first', { ascending: false, nullsFirst: true }, 'DESC NULLS FIRST'],
    ['desc nulls last', { ascending: false, nullsFirst: false }, 'DESC NULLS LAST'],
    ['desc (nulls first by default)', { ascending: false }, 'DESC'],
  ]) {
    test(name, async () => {
      const got = ok(
        await service().from('orders').select('id,customer_name').order('customer_name', opts).order('id'),
      );
      const want = await sqlRows(
        `SELECT id, customer_name FROM api.orders ORDER BY customer_name ${sqlOrder}, id`,
      );
      assert.deepEqual(got, want);
    });
  }
});

describe('limit, offset, range and counts', () => {
  test('limit', async () => {
    const got = ok(await service().from('orders').select('id').order('created_at', { ascending: false }).limit(3));
    assert.deepEqual(got, await sqlRows(`SELECT id FROM api.orders ORDER BY created_at DESC LIMIT 3`));
  });

  test('range (offset and limit) with an exact count: 206 and the total', async () => {
    const res = await service().from('orders').select('id', { count: 'exact' }).order('id').range(2, 5);
    const got = ok(res, 206);
    assert.deepEqual(got, await sqlRows(`SELECT id FROM api.orders ORDER BY id OFFSET 2 LIMIT 4`));
    assert.equal(res.count, Number(await sqlValue(`SELECT count(*) FROM api.orders`)));
  });

  test('exact count with a filter and no rows asked for (head)', async () => {
    const res = await service().from('orders').select('*', { count: 'exact', head: true }).eq('fulfillment', 'delivery');
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.equal(res.count, Number(await sqlValue(`SELECT count(*) FROM api.orders WHERE fulfillment = 'delivery'`)));
  });

  test('estimated count', async () => {
    const res = await service().from('order_items').select('id', { count: 'estimated' }).limit(2);
    ok(res);
    assert.equal(res.count, Number(await sqlValue(`SELECT count(*) FROM api.order_items`)));
  });

  test('planned count is the planner\'s estimate', async () => {
    const res = await service().from('order_items').select('id', { count: 'planned' }).limit(2);
    ok(res);
    const plan = await sqlValue(`EXPLAIN (FORMAT JSON) SELECT 1 FROM api.order_items`);
    const estimate = (Array.isArray(plan) ? plan : JSON.parse(plan))[0].Plan['Plan Rows'];
    assert.equal(typeof res.count, 'number');
    assert.equal(res.count, estimate);
  });

  test('a range past the counted total: 416 PGRST103', async () => {
    const res = await service().from('orders').select('id', { count: 'exact' }).order('id').range(100, 110);
    // PostgREST answers 416 (PGRST103) for a range that starts past a counted total.
    failed(res, 416, 'PGRST103');
  });
});

describe('single objects and CSV', () => {
  test('single(): one row as an object', async () => {
    const got = ok(await service().from('orders').select('*').eq('id', order(1)).single(), 200);
    const [want] = await sqlRows(`SELECT * FROM api.orders WHERE id = $1`, [order(1)]);
    assert.deepEqual(got, want);
  });

  test('single() on several rows: PGRST116, 406', async () => {
    failed(await service().from('orders').select('*').eq('status', 'confirmed').single(), 406, 'PGRST116');
  });

  test('single() on no row: PGRST116, 406', async () => {
    failed(await service().from('orders').select('*').eq('status', 'nonesuch').single(), 406, 'PGRST116');
  });

  test('maybeSingle(): one row, or null for none', async () => {
    const got = ok(await service().from('calls').select('*').eq('call_sid', 'CA00000000000000000000000000000004').maybeSingle());
    const [want] = await sqlRows(`SELECT * FROM api.calls WHERE call_sid = 'CA00000000000000000000000000000004'`);
    assert.deepEqual(got, want);
    const none = await service().from('calls').select('*').eq('call_sid', 'CA99999999999999999999999999999999').maybeSingle();
    assert.equal(none.error, null, JSON.stringify(none.error));
    assert.equal(none.data, null);
  });

  test('maybeSingle() on several rows is an error', async () => {
    const res = await service().from('orders').select('id').eq('store_id', 'tonys-pizza').maybeSingle();
    assert.notEqual(res.error, null);
    assert.equal(res.error.code, 'PGRST116');
  });

  test('csv()', async () => {
    const res = await service()
      .from('orders')
      .select('id,customer_name,delivery_address,total_cents,confidence')
      .order('id')
      .csv();
    const text = ok(res, 200);
    assert.equal(typeof text, 'string');
    const got = parseCsv(text);
    const want = await sql(`
      SELECT id::text, customer_name, delivery_address, total_cents::text, confidence::text
      FROM api.orders ORDER BY id`);
    assert.deepEqual(got[0], ['id', 'customer_name', 'delivery_address', 'total_cents', 'confidence']);
    assert.deepEqual(
      got.slice(1),
      want.rows.map((r) => Object.values(r).map((v) => v ?? '')),
    );
  });
});
