// Writes through postgrest-js: insert (one row, many, return=minimal and representation),
// update, delete, upsert (on_conflict, ignore-duplicates), tx=rollback, and the errors writes
// produce (23505 → 409, PGRST204, 42501 → 403), each checked against the table with direct SQL.
// Every row created here carries RUN in a name or sku and is removed at the end.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { failed, merchantA, ok, RUN, service, sql, sqlRows, sqlValue, ANA } from './helpers.mjs';

const byKey = (k) => (a, b) => (a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : 0);
const NAME = (n) => `${RUN} worker ${n}`;
const SKU = `${RUN}-item`;

after(async () => {
  await sql(`DELETE FROM workers WHERE name LIKE $1`, [`${RUN} %`]);
  await sql(`DELETE FROM menu_items WHERE sku LIKE $1`, [`${RUN}%`]);
  await sql(`DELETE FROM orders WHERE customer_name LIKE $1`, [`${RUN} %`]);
  await sql(`UPDATE menu_items SET name = 'Conformance Special', price_cents = 1000, category = 'Test'
             WHERE sku = 'conformance-special' AND store_id = 'tonys-pizza'`);
});

describe('insert', () => {
  test('one row, return=representation', async () => {
    const got = ok(
      await service()
        .from('workers')
        .insert({ name: NAME(1), activity: 'busy', attributes: { skills: ['verify'], languages: ['en-US'] } })
        .select(),
      201,
    );
    assert.equal(got.length, 1);
    assert.deepEqual(got, await sqlRows(`SELECT * FROM api.workers WHERE id = $1`, [got[0].id]));
  });

  test('many rows, return=minimal (the client\'s default), missing=default, with an exact count', async () => {
    const res = await service()
      .from('workers')
      .insert([{ name: NAME(2) }, { name: NAME(3), activity: 'available' }], { count: 'exact', defaultToNull: false });
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.equal(res.status, 201);
    assert.equal(res.data, null);
    assert.equal(res.count, 2);
    const want = await sqlRows(`SELECT name, activity FROM api.workers WHERE name IN ($1, $2) ORDER BY name`, [NAME(2), NAME(3)]);
    assert.deepEqual(want, [{ name: NAME(2), activity: 'offline' }, { name: NAME(3), activity: 'available' }]);
  });

  test('select= shapes the representation', async () => {
    const got = ok(await service().from('workers').insert({ name: NAME(4) }).select('who:name,activity').single(), 201);
    assert.deepEqual(got, { who: NAME(4), activity: 'offline' });
  });

  test('23505 (unique violation) is a 409', async () => {
    failed(await service().from('workers').insert({ id: ANA, name: NAME(5) }), 409, '23505');
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM workers WHERE name = $1`, [NAME(5)])), 0);
  });

  test('many rows with a key missing from one: null there (the client\'s default), 23502', async () => {
    const res = await service().from('workers').insert([{ name: NAME(9) }, { name: NAME(10), activity: 'busy' }]);
    failed(res, 400, '23502');
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM workers WHERE name IN ($1, $2)`, [NAME(9), NAME(10)])), 0);
  });

  test('23514 (check violation) is a 400', async () => {
    failed(await service().from('workers').insert({ name: NAME(6), activity: 'asleep' }), 400, '23514');
  });

  test('an unknown column: PGRST204, 400', async () => {
    failed(await service().from('workers').insert({ name: NAME(7), nonesuch: 1 }), 400, 'PGRST204');
  });
});

describe('update and delete', () => {
  test('update with a filter, return=representation', async () => {
    const got = ok(
      await service().from('workers').update({ activity: 'available' }).like('name', `${RUN} worker *`).select(),
      200,
    );
    got.sort(byKey('name'));
    const want = await sqlRows(`SELECT * FROM api.workers WHERE name LIKE $1 ORDER BY name`, [`${RUN} worker %`]);
    assert.deepEqual(got, want);
    assert.ok(want.length >= 3 && want.every((w) => w.activity === 'available'));
  });

  test('update, return=minimal: 204 and the change is there', async () => {
    const res = await service().from('workers').update({ attributes: { skills: ['callback'] } }).eq('name', NAME(1));
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.equal(res.status, 204);
    assert.deepEqual(await sqlValue(`SELECT attributes FROM workers WHERE name = $1`, [NAME(1)]), { skills: ['callback'] });
  });

  test('Prefer: tx=rollback answers the change and keeps nothing', async () => {
    const got = ok(
      await service().from('workers').update({ activity: 'busy' }).eq('name', NAME(2)).select('name,activity').rollback(),
    );
    assert.deepEqual(got, [{ name: NAME(2), activity: 'busy' }]);
    assert.equal(await sqlValue(`SELECT activity FROM workers WHERE name = $1`, [NAME(2)]), 'available');
  });

  test('delete with a filter, return=representation', async () => {
    const before = await sqlRows(`SELECT * FROM api.workers WHERE name IN ($1, $2) ORDER BY name`, [NAME(3), NAME(4)]);
    const got = ok(await service().from('workers').delete().in('name', [NAME(3), NAME(4)]).select(), 200);
    got.sort(byKey('name'));
    assert.deepEqual(got, before);
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM workers WHERE name IN ($1, $2)`, [NAME(3), NAME(4)])), 0);
  });

  test('delete, return=minimal: 204', async () => {
    const res = await service().from('workers').delete().eq('name', NAME(2));
    assert.equal(res.error, null, JSON.stringify(res.error));
    assert.equal(res.status, 204);
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM workers WHERE name = $1`, [NAME(2)])), 0);
  });
});

describe('upsert', () => {
  test('merge-duplicates on a composite key (onConflict): updates one row, inserts another', async () => {
    const got = ok(
      await service()
        .from('menu_items')
        .upsert(
          [
            { store_id: 'tonys-pizza', sku: 'conformance-special', name: `${RUN} special`, price_cents: 1100, category: 'Test' },
            { store_id: 'tonys-pizza', sku: SKU, name: `${RUN} new`, price_cents: 500, category: 'Test' },
          ],
          { onConflict: 'store_id,sku' },
        )
        .select('store_id,sku,name,price_cents'),
      201,
    );
    got.sort(byKey('sku'));
    const want = await sqlRows(
      `SELECT store_id, sku, name, price_cents FROM api.menu_items
       WHERE store_id = 'tonys-pizza' AND sku IN ('conformance-special', $1) ORDER BY sku`,
      [SKU],
    );
    assert.deepEqual(got, want);
    assert.equal(want.length, 2);
    assert.equal(want.find((r) => r.sku === 'conformance-special').name, `${RUN} special`);
  });

  test('ignore-duplicates leaves the existing row alone', async () => {
    const res = await service()
      .from('menu_items')
      .upsert(
        [
          { store_id: 'tonys-pizza', sku: 'conformance-special', name: 'ignored', price_cents: 1, category: 'Test' },
          { store_id: 'tonys-pizza', sku: `${SKU}-2`, name: `${RUN} newer`, price_cents: 2, category: 'Test' },
        ],
        { onConflict: 'store_id,sku', ignoreDuplicates: true },
      )
      .select('sku,name');
    const got = ok(res, 201);
    assert.deepEqual(got, [{ sku: `${SKU}-2`, name: `${RUN} newer` }]);
    assert.equal(
      await sqlValue(`SELECT name FROM menu_items WHERE store_id = 'tonys-pizza' AND sku = 'conformance-special'`),
      `${RUN} special`,
    );
  });

  test('upsert on the primary key (no onConflict)', async () => {
    const [{ id }] = ok(await service().from('workers').insert({ name: NAME(8) }).select('id'));
    const got = ok(
      await service().from('workers').upsert({ id, name: NAME(8), activity: 'busy', attributes: {} }).select('id,name,activity'),
    );
    assert.deepEqual(got, [{ id, name: NAME(8), activity: 'busy' }]);
    assert.equal(await sqlValue(`SELECT activity FROM workers WHERE id = $1`, [id]), 'busy');
  });
});

describe('a merchant writes', () => {
  const orderRow = (storeId, n) => ({
    store_id: storeId,
    status: 'confirmed',
    customer_name: `${RUN} customer ${n}`,
    customer_phone: '+15559870000',
    fulfillment: 'pickup',
    subtotal_cents: 1000,
    tax_cents: 80,
    total_cents: 1080,
  });

  test('an order in its own store', async () => {
    const got = ok(await merchantA().from('orders').insert(orderRow('tonys-pizza', 1)).select(), 201);
    assert.deepEqual(got, await sqlRows(`SELECT * FROM api.orders WHERE id = $1`, [got[0].id]));
  });

  test('not in another merchant\'s store: 42501, 403, nothing written', async () => {
    failed(await merchantA().from('orders').insert(orderRow('la-casita', 2)).select(), 403, '42501');
    assert.equal(Number(await sqlValue(`SELECT count(*) FROM orders WHERE customer_name = $1`, [`${RUN} customer 2`])), 0);
  });

  test('not a column it may not change (the money): 42501', async () => {
    const res = await merchantA().from('orders').update({ total_cents: 1 }).eq('customer_name', `${RUN} customer 1`);
    failed(res, 403, '42501');
    assert.equal(Number(await sqlValue(`SELECT total_cents FROM orders WHERE customer_name = $1`, [`${RUN} customer 1`])), 1080);
  });
});
