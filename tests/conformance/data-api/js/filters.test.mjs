// Every filter operator, through postgrest-js's own methods where it has one and `.filter()`
// (its raw `col=op.value`) where it has none, each compared with the rows a direct SQL query on
// the same `api` view returns.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ok, service, sqlRows } from './helpers.mjs';

// [name, table, what the client adds to `select('*')`, the same condition in SQL, order key]
const CASES = [
  ['eq', 'orders', (q) => q.eq('status', 'confirmed'), `status = 'confirmed'`],
  ['neq', 'orders', (q) => q.neq('status', 'confirmed'), `status <> 'confirmed'`],
  ['gt', 'orders', (q) => q.gt('total_cents', 1519), `total_cents > 1519`],
  ['gte', 'orders', (q) => q.gte('total_cents', 1519), `total_cents >= 1519`],
  ['lt on a timestamp', 'orders', (q) => q.lt('created_at', '2026-11-21T08:01:30Z'), `created_at < '2026-11-21T08:01:30Z'`],
  ['lte on a timestamp', 'orders', (q) => q.lte('created_at', '2026-11-21T08:01:30Z'), `created_at <= '2026-11-21T08:01:30Z'`],
  ['gt on a real', 'orders', (q) => q.gt('confidence', 0.8), `confidence > 0.8::real`],
  ['like', 'orders', (q) => q.like('customer_name', 'Alice*'), `customer_name LIKE 'Alice%'`],
  ['ilike', 'orders', (q) => q.ilike('customer_name', 'alice*'), `customer_name ILIKE 'alice%'`],
  ['match', 'orders', (q) => q.regexMatch('customer_name', '^[A-Z][a-z]+ [A-Z]'), `customer_name ~ '^[A-Z][a-z]+ [A-Z]'`],
  ['imatch', 'orders', (q) => q.regexIMatch('customer_name', '^(alice|bob)'), `customer_name ~* '^(alice|bob)'`],
  ['in', 'orders', (q) => q.in('status', ['confirmed', 'cancelled']), `status IN ('confirmed', 'cancelled')`],
  ['in with a comma inside a value', 'orders', (q) => q.in('delivery_address', ['12 Main Street, Springfield', 'nowhere']),
    `delivery_address IN ('12 Main Street, Springfield', 'nowhere')`],
  ['is null', 'orders', (q) => q.is('customer_name', null), `customer_name IS NULL`],
  ['is true', 'menu_items', (q) => q.is('available', true).eq('store_id', 'la-casita'), `available IS TRUE AND store_id = 'la-casita'`, 'sku'],
  ['is false', 'stores', (q) => q.is('delivery', false), `delivery IS FALSE`],
  ['isdistinct', 'orders', (q) => q.isDistinct('customer_name', 'Alice Smith'), `customer_name IS DISTINCT FROM 'Alice Smith'`],
  ['cs on text[]', 'stores', (q) => q.contains('languages', ['en-US', 'es-US']), `languages @> ARRAY['en-US', 'es-US']`],
  ['cd on text[]', 'stores', (q) => q.containedBy('languages', ['en-US', 'es-US']), `languages <@ ARRAY['en-US', 'es-US']`],
  ['ov on text[]', 'stores', (q) => q.overlaps('languages', ['es-US', 'fr-CA']), `languages && ARRAY['es-US', 'fr-CA']`],
  ['cs on a jsonb array', 'order_items', (q) => q.filter('modifiers', 'cs', '["extra-cheese"]'), `modifiers @> '["extra-cheese"]'::jsonb`],
  ['cs on a jsonb object', 'workers', (q) => q.contains('attributes', { skills: ['spanish'] }), `attributes @> '{"skills": ["spanish"]}'::jsonb`],
  ['cd on a jsonb array', 'order_items', (q) => q.filter('modifiers', 'cd', '["milk-oat","extra-shot","no-onion"]'),
    `modifiers <@ '["milk-oat","extra-shot","no-onion"]'::jsonb`],
  ['fts', 'order_items', (q) => q.textSearch('notes', 'extra & crispy'), `to_tsvector(notes) @@ to_tsquery('extra & crispy')`],
  ['fts with a config', 'order_items', (q) => q.textSearch('notes', 'crisp:*', { config: 'english' }),
    `to_tsvector('english', notes) @@ to_tsquery('english', 'crisp:*')`],
  ['plfts', 'order_items', (q) => q.textSearch('notes', 'extra crispy', { type: 'plain', config: 'english' }),
    `to_tsvector('english', notes) @@ plainto_tsquery('english', 'extra crispy')`],
  ['phfts', 'order_items', (q) => q.textSearch('notes', 'extra crispy', { type: 'phrase', config: 'english' }),
    `to_tsvector('english', notes) @@ phraseto_tsquery('english', 'extra crispy')`],
  ['wfts', 'order_items', (q) => q.textSearch('notes', '"extra crispy" -tortillas', { type: 'websearch', config: 'english' }),
    `to_tsvector('english', notes) @@ websearch_to_tsquery('english', '"extra crispy" -tortillas')`],
  ['not.eq', 'orders', (q) => q.not('status', 'eq', 'confirmed'), `NOT (status = 'confirmed')`],
  ['not.in', 'orders', (q) => q.not('status', 'in', '(confirmed,cancelled)'), `NOT (status IN ('confirmed', 'cancelled'))`],
  ['not.is null', 'orders', (q) => q.not('call_sid', 'is', null), `call_sid IS NOT NULL`],
  ['not.ilike', 'orders', (q) => q.not('customer_name', 'ilike', 'alice*'), `NOT (customer_name ILIKE 'alice%')`],
  ['not.cs', 'stores', (q) => q.not('languages', 'cs', '{es-US}'), `NOT (languages @> ARRAY['es-US'])`],
  ['not.fts', 'order_items', (q) => q.not('notes', 'fts', 'extra'), `NOT (to_tsvector(notes) @@ to_tsquery('extra'))`],
  ['or', 'orders', (q) => q.or('status.eq.cancelled,total_cents.gt.3000'), `status = 'cancelled' OR total_cents > 3000`],
  ['or with and nested', 'orders', (q) => q.or('and(status.eq.confirmed,fulfillment.eq.delivery),customer_name.is.null'),
    `(status = 'confirmed' AND fulfillment = 'delivery') OR customer_name IS NULL`],
  ['or, and, or nested', 'orders', (q) => q.or('and(fulfillment.eq.pickup,or(status.eq.cancelled,total_cents.lt.500)),status.eq.pos_failed'),
    `(fulfillment = 'pickup' AND (status = 'cancelled' OR total_cents < 500)) OR status = 'pos_failed'`],
  ['or with quoted values (comma, quote)', 'orders',
    (q) => q.or(`customer_name.eq."Frank O'Brien",delivery_address.eq."99 Oak Avenue, Shelbyville"`),
    `customer_name = 'Frank O''Brien' OR delivery_address = '99 Oak Avenue, Shelbyville'`],
  ['not.and inside or', 'orders', (q) => q.or('not.and(status.eq.confirmed,fulfillment.eq.pickup),total_cents.lt.0'),
    `NOT (status = 'confirmed' AND fulfillment = 'pickup') OR total_cents < 0`],
  ['or combined with a filter', 'orders', (q) => q.eq('store_id', 'tonys-pizza').or('customer_name.ilike.*alice*,customer_name.is.null'),
    `store_id = 'tonys-pizza' AND (customer_name ILIKE '%alice%' OR customer_name IS NULL)`],
  ['like(any)', 'orders', (q) => q.likeAnyOf('customer_name', ['Alice*', '*Diaz']), `customer_name LIKE ANY (ARRAY['Alice%', '%Diaz'])`],
  ['like(all)', 'orders', (q) => q.likeAllOf('customer_name', ['A*', '*h']), `customer_name LIKE ALL (ARRAY['A%', '%h'])`],
  ['ilike(any)', 'orders', (q) => q.ilikeAnyOf('customer_name', ['alice*', 'BOB*']), `customer_name ILIKE ANY (ARRAY['alice%', 'BOB%'])`],
  ['ilike(all)', 'orders', (q) => q.ilikeAllOf('customer_name', ['*a*', '*i*']), `customer_name ILIKE ALL (ARRAY['%a%', '%i%'])`],
  ['eq(any)', 'orders', (q) => q.filter('status', 'eq(any)', '{confirmed,cancelled}'), `status = ANY (ARRAY['confirmed', 'cancelled'])`],
  ['gt(all)', 'orders', (q) => q.filter('total_cents', 'gt(all)', '{500,1000}'), `total_cents > ALL (ARRAY[500, 1000])`],
  ['imatch(any)', 'orders', (q) => q.filter('customer_name', 'imatch(any)', '{^bob,^eve}'), `customer_name ~* ANY (ARRAY['^bob', '^eve'])`],
  ['a JSON path (->>)', 'call_events', (q) => q.eq('payload->>text', 'hello'), `payload->>'text' = 'hello'`, 'call_sid,seq'],
  ['a JSON path (->) compared as json', 'workers', (q) => q.filter('attributes->languages', 'cs', '["es-US"]'),
    `attributes->'languages' @> '["es-US"]'::jsonb`],
];

const orderKeys = { orders: 'id', stores: 'id', order_items: 'id', workers: 'id', menu_items: 'sku' };

describe('filters', () => {
  for (const [name, table, apply, where, key = orderKeys[table]] of CASES) {
    test(`${name} (${table})`, async () => {
      let q = service().from(table).select('*');
      q = apply(q);
      for (const k of key.split(',')) q = q.order(k);
      const got = ok(await q, 200);
      const want = await sqlRows(`SELECT * FROM api.${table} WHERE ${where} ORDER BY ${key}`);
      assert.deepEqual(got, want);
      // A filter that matches nothing, or everything, tests little: the seed avoids both.
      assert.ok(want.length > 0, `the seed should match some rows for ${name}`);
    });
  }

  test('operators on embedded resources filter the embedded rows only', async () => {
    const got = ok(
      await service()
        .from('orders')
        .select('id,order_items(line_no,sku,quantity)')
        .gt('order_items.quantity', 1)
        .order('line_no', { referencedTable: 'order_items' })
        .order('id'),
    );
    const want = await sqlRows(`
      SELECT o.id, (SELECT coalesce(json_agg(i), '[]'::json)
                    FROM (SELECT line_no, sku, quantity FROM api.order_items
                          WHERE order_id = o.id AND quantity > 1 ORDER BY line_no) i) AS order_items
      FROM api.orders o ORDER BY o.id`);
    assert.deepEqual(got, want);
  });
});
