// Shared by the test files: the clients (one per token), direct SQL as the superuser, and the
// seed's fixed ids (tests/conformance/data-api/seed.sql).
//
// Every comparison asks PostgreSQL for the expected rows as JSON (`json_agg` over the `api` view),
// so values are formatted exactly as a PostgREST body would format them, and compares the parsed
// documents.

import assert from 'node:assert/strict';

import { PostgrestClient } from '@supabase/postgrest-js';
import jwt from 'jsonwebtoken';
import pg from 'pg';

function need(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through services/kea/tests/it/data_api_clients.rs`);
  }
  return value;
}

export const KEA_URL = need('KEA_URL').replace(/\/$/, '');
export const REST_URL = `${KEA_URL}/rest/v1`;
export const JWT_SECRET = need('KEA_JWT_SECRET');
export const DATABASE_URL = need('DATABASE_URL');

export const MERCHANT_A = '00000000-0000-4000-8000-00000000000a';
export const MERCHANT_B = '00000000-0000-4000-8000-00000000000b';
export const ANA = '00000000-0000-4000-8000-0000000000c1';
export const BEN = '00000000-0000-4000-8000-0000000000c2';
export const CY = '00000000-0000-4000-8000-0000000000c3';
export const order = (n) => `00000000-0000-4000-8000-0000000000d${n}`;
export const STORES_A = ['bean-there', 'tonys-pizza'];
export const STORES_B = ['la-casita'];

/** A signed token with `claims`, valid for `ttl` seconds (negative: already expired). */
export function token(claims, ttl = 600) {
  const exp = Math.floor(Date.now() / 1000) + ttl;
  return jwt.sign({ ...claims, exp }, JWT_SECRET, { algorithm: 'HS256', noTimestamp: true });
}

/** A postgrest-js client for `/rest/v1` with the bearer token given (none: anonymous). */
export function clientWithToken(bearer) {
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  return new PostgrestClient(REST_URL, { headers });
}

export const client = (claims) => clientWithToken(token(claims));
export const service = () => client({ role: 'service' });
export const merchantA = () => client({ role: 'merchant', merchant_id: MERCHANT_A });
export const merchantB = () => client({ role: 'merchant', merchant_id: MERCHANT_B });
export const agent = (workerId) => client({ role: 'agent', worker_id: workerId });

const pool = new pg.Pool({
  connectionString: DATABASE_URL,
  max: 2,
  // Idle connections close by themselves so the test process can exit: no hook has to end the pool
  // (a root `after` here would run before the test files' own cleanup hooks).
  idleTimeoutMillis: 200,
  allowExitOnIdle: true,
  // As the server's connections: times in UTC, floats in their shortest exact form.
  options: '-c TimeZone=UTC -c extra_float_digits=2',
});

/** The rows `query` returns, as the JSON document PostgreSQL builds for them. */
export async function sqlRows(query, params = []) {
  const res = await pool.query(`SELECT coalesce(json_agg(t), '[]'::json) AS j FROM (${query}) AS t`, params);
  return res.rows[0].j;
}

/** One value. */
export async function sqlValue(query, params = []) {
  const res = await pool.query(query, params);
  return res.rows[0] ? Object.values(res.rows[0])[0] : undefined;
}

/** Runs a statement. */
export async function sql(query, params = []) {
  return pool.query(query, params);
}

/** The data of a successful response; fails with the error otherwise. */
export function ok(res, status) {
  assert.equal(res.error, null, `expected success, got ${res.status}: ${JSON.stringify(res.error)}`);
  if (status !== undefined) assert.equal(res.status, status, `status of ${JSON.stringify(res.data)}`);
  return res.data;
}

/** Checks that a response failed with `status` and PostgREST error `code` (a list: any of them). */
export function failed(res, status, code) {
  assert.notEqual(res.error, null, `expected an error ${code}, got ${res.status}: ${JSON.stringify(res.data)}`);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(res.error.code), `error code ${res.error.code} not in ${codes}: ${JSON.stringify(res.error)}`);
  assert.equal(res.status, status, `status for ${JSON.stringify(res.error)}`);
  for (const key of ['message', 'details', 'hint']) {
    assert.ok(key in res.error, `error body has no "${key}": ${JSON.stringify(res.error)}`);
  }
  return res.error;
}

/** Parses CSV (RFC 4180: quoted fields, doubled quotes) into rows of strings. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** What `order_summary` should say about `id`, from the tables. */
export async function expectedSummary(id) {
  const [head] = await sqlRows(
    `SELECT o.id, o.status, o.store_id, s.name AS store_name, o.customer_name, o.customer_phone,
            o.fulfillment, o.total_cents, o.created_at
     FROM api.orders o JOIN api.stores s ON s.id = o.store_id WHERE o.id = $1`,
    [id],
  );
  const items = await sqlRows(
    `SELECT sku, name, size, quantity, modifiers, unit_price_cents, line_total_cents, notes, line_no
     FROM api.order_items WHERE order_id = $1 ORDER BY line_no`,
    [id],
  );
  return { head, items };
}

/** Compares a summary with the tables: every documented key, and the items line by line on the
 *  keys the two have in common. */
export function assertSummary(got, { head, items }) {
  assert.ok(got && typeof got === 'object' && !Array.isArray(got), `not an object: ${JSON.stringify(got)}`);
  for (const [key, value] of Object.entries(head)) {
    if (key === 'created_at') {
      assert.equal(Date.parse(got.created_at), Date.parse(value), 'created_at');
    } else {
      assert.deepEqual(got[key], value, key);
    }
  }
  assert.ok(Array.isArray(got.items), 'items is an array');
  assert.equal(got.items.length, items.length, 'number of items');
  got.items.forEach((item, i) => {
    for (const key of Object.keys(item)) {
      if (key in items[i]) assert.deepEqual(item[key], items[i][key], `items[${i}].${key}`);
    }
    assert.equal(item.sku, items[i].sku, `items[${i}].sku`);
  });
}

/** A tag unique to this run, for rows a test creates. */
export const RUN = `js${process.pid}`;
