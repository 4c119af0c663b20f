-- Writes and functions of the data API (`/rest/v1`): which role may insert, update or delete what
-- through the `api` views, and the functions served as `/rest/v1/rpc/<name>`.
--
-- The views of migration 0002 are simple (one table, no aggregates), so PostgreSQL updates them
-- itself; they are `security_invoker`, so a write through a view is checked against the request's
-- role twice: its privileges on the view *and* on the base table, and the base table's row-level
-- security policies. The grants below are therefore given on both, column by column where a role
-- may change only some columns. A write policy's USING decides which existing rows a role may
-- change or delete (rows it cannot see are not touched, they simply do not match); WITH CHECK
-- decides what a row may look like afterwards (a violation is 42501, answered 403).
--
-- Stores are created by importing a store document (`kea import`), which the API does not carry,
-- so nobody inserts or deletes stores here; menu rows that an order may refer to are never deleted
-- (they are marked unavailable), as the foundation migration says.

-- service: everything the views expose, except creating or deleting stores.
GRANT INSERT, UPDATE, DELETE ON api.merchants, api.menu_items, api.item_sizes,
    api.modifier_groups, api.modifier_options, api.calls, api.call_events, api.orders,
    api.order_items, api.tasks, api.workers
    TO kea_service;
GRANT INSERT, UPDATE, DELETE ON merchants, menu_items, item_sizes, modifier_groups,
    modifier_options, calls, call_events, orders, order_items, tasks, workers
    TO kea_service;
-- The POS settings stay with the store import (they come with credentials the view hides).
GRANT UPDATE (name, phone, timezone, languages, tax_rate_bps, pickup, delivery, delivery_fee_cents,
    delivery_minimum_cents, pickup_minutes, delivery_minutes, hours)
    ON api.stores TO kea_service, kea_merchant;
GRANT UPDATE (name, phone, timezone, languages, tax_rate_bps, pickup, delivery, delivery_fee_cents,
    delivery_minimum_cents, pickup_minutes, delivery_minutes, hours)
    ON stores TO kea_service, kea_merchant;

CREATE POLICY service_insert ON merchants FOR INSERT TO kea_service WITH CHECK (true);
CREATE POLICY service_update ON merchants FOR UPDATE TO kea_service USING (true) WITH CHECK (true);
CREATE POLICY service_delete ON merchants FOR DELETE TO kea_service USING (true);
CREATE POLICY service_update ON stores FOR UPDATE TO kea_service USING (true) WITH CHECK (true);
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['menu_items', 'item_sizes', 'modifier_groups', 'modifier_options',
                             'calls', 'call_events', 'orders', 'order_items', 'tasks', 'workers'] LOOP
        EXECUTE format('CREATE POLICY service_insert ON %I FOR INSERT TO kea_service WITH CHECK (true)', t);
        EXECUTE format('CREATE POLICY service_update ON %I FOR UPDATE TO kea_service USING (true) WITH CHECK (true)', t);
        EXECUTE format('CREATE POLICY service_delete ON %I FOR DELETE TO kea_service USING (true)', t);
    END LOOP;
END
$$;

-- merchant: its own stores' settings, their menus (add and change, never delete), and its orders
-- (take one on the phone, change its status or readiness: confirm, cancel, mark ready). The
-- money, the store and the call of an order are not its to change once placed. Every WITH CHECK
-- keeps the row inside the merchant: `stores` as the merchant sees it is its own stores.
CREATE POLICY merchant_update ON stores FOR UPDATE TO kea_merchant
    USING (merchant_id = (SELECT kea_jwt_claim_uuid('merchant_id')))
    WITH CHECK (merchant_id = (SELECT kea_jwt_claim_uuid('merchant_id')));

GRANT INSERT (store_id, sku, name, category, description, aliases, price_cents, default_size,
    available, position)
    ON api.menu_items, menu_items TO kea_merchant;
GRANT UPDATE (name, category, description, aliases, price_cents, default_size, available, position)
    ON api.menu_items, menu_items TO kea_merchant;
GRANT INSERT (store_id, item_sku, name, price_cents, aliases, position),
      UPDATE (name, price_cents, aliases, position)
    ON api.item_sizes, item_sizes TO kea_merchant;
GRANT INSERT (store_id, id, name, min_choices, max_choices, available, position),
      UPDATE (name, min_choices, max_choices, available, position)
    ON api.modifier_groups, modifier_groups TO kea_merchant;
GRANT INSERT (store_id, group_id, sku, name, price_cents, aliases, available, position),
      UPDATE (name, price_cents, aliases, available, position)
    ON api.modifier_options, modifier_options TO kea_merchant;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['menu_items', 'item_sizes', 'modifier_groups', 'modifier_options'] LOOP
        EXECUTE format('CREATE POLICY merchant_insert ON %I FOR INSERT TO kea_merchant
                        WITH CHECK (store_id IN (SELECT id FROM stores))', t);
        EXECUTE format('CREATE POLICY merchant_update ON %I FOR UPDATE TO kea_merchant
                        USING (store_id IN (SELECT id FROM stores))
                        WITH CHECK (store_id IN (SELECT id FROM stores))', t);
    END LOOP;
END
$$;

GRANT INSERT (id, store_id, status, customer_name, customer_phone, fulfillment, delivery_address,
    subtotal_cents, tax_cents, delivery_fee_cents, total_cents, confidence, ready_at)
    ON api.orders, orders TO kea_merchant;
GRANT UPDATE (status, ready_at) ON api.orders, orders TO kea_merchant;
CREATE POLICY merchant_insert ON orders FOR INSERT TO kea_merchant
    WITH CHECK (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_update ON orders FOR UPDATE TO kea_merchant
    USING (store_id IN (SELECT id FROM stores))
    WITH CHECK (store_id IN (SELECT id FROM stores));
GRANT INSERT (order_id, line_no, store_id, sku, name, size, quantity, modifiers, unit_price_cents,
    line_total_cents, notes)
    ON api.order_items, order_items TO kea_merchant;
CREATE POLICY merchant_insert ON order_items FOR INSERT TO kea_merchant
    WITH CHECK (order_id IN (SELECT id FROM orders) AND store_id IN (SELECT id FROM stores));

-- agent: the tasks assigned or offered to it (their status and note, not who has them or their
-- priority), and the orders behind them, which it verifies: confirmed or rejected, nothing else.
GRANT UPDATE (status, reason) ON api.tasks, tasks TO kea_agent;
CREATE POLICY agent_update ON tasks FOR UPDATE TO kea_agent
    USING (worker_id = (SELECT kea_jwt_claim_uuid('worker_id')))
    WITH CHECK (worker_id = (SELECT kea_jwt_claim_uuid('worker_id')));
GRANT UPDATE (status) ON api.orders, orders TO kea_agent;
-- `tasks` as the agent sees it is its own tasks (agent_read).
CREATE POLICY agent_update ON orders FOR UPDATE TO kea_agent
    USING (id IN (SELECT order_id FROM tasks))
    WITH CHECK (id IN (SELECT order_id FROM tasks) AND status IN ('confirmed', 'rejected'));

-- anon: still nothing.

-- Functions served as `/rest/v1/rpc/<name>`. SECURITY INVOKER (the default, spelled out) and
-- reading through the `api` views, so the caller's grants and row-level security apply: an order
-- the caller cannot see is null, a store it cannot see has no stats. Executable by the three roles
-- that may read, not by anon (42501, answered 401).

-- agent: the stores behind the orders it may see, so it can read the store's name and phone it
-- (a `callback` task says: phone the store).
CREATE POLICY agent_read ON stores FOR SELECT TO kea_agent
    USING (id IN (SELECT store_id FROM orders));

-- One order with its store's name and its lines, as the tools show it; null when not visible.
CREATE FUNCTION api.order_summary(order_id uuid) RETURNS jsonb
LANGUAGE sql STABLE SECURITY INVOKER AS $$
    SELECT jsonb_build_object(
        'id', o.id,
        'status', o.status,
        'store_id', o.store_id,
        'store_name', s.name,
        'customer_name', o.customer_name,
        'customer_phone', o.customer_phone,
        'fulfillment', o.fulfillment,
        'total_cents', o.total_cents,
        'created_at', o.created_at,
        'items', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'sku', i.sku,
                       'name', i.name,
                       'size', i.size,
                       'quantity', i.quantity,
                       'modifiers', i.modifiers,
                       'line_total_cents', i.line_total_cents,
                       'notes', i.notes) ORDER BY i.line_no)
            FROM api.order_items i
            WHERE i.order_id = o.id), '[]'::jsonb))
    FROM api.orders o
    LEFT JOIN api.stores s ON s.id = o.store_id
    WHERE o.id = order_summary.order_id
$$;
COMMENT ON FUNCTION api.order_summary(uuid) IS
    'One order with its store name and lines, or null when the caller cannot see it.';

-- Orders of one store by status: how many and their total.
CREATE FUNCTION api.store_order_stats(store_id text)
RETURNS TABLE (status text, orders bigint, total_cents bigint)
LANGUAGE sql STABLE SECURITY INVOKER AS $$
    SELECT o.status, pg_catalog.count(*), coalesce(pg_catalog.sum(o.total_cents), 0)::bigint
    FROM api.orders o
    WHERE o.store_id = store_order_stats.store_id
    GROUP BY o.status
    ORDER BY o.status
$$;
COMMENT ON FUNCTION api.store_order_stats(text) IS
    'Orders of one store by status: how many and their total in cents.';

REVOKE EXECUTE ON FUNCTION api.order_summary(uuid), api.store_order_stats(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.order_summary(uuid), api.store_order_stats(text)
    TO kea_service, kea_merchant, kea_agent;

-- A server that is running picks the new schema up without a restart.
NOTIFY pgrst, 'reload schema';
