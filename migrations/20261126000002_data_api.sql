-- The data API (`/rest/v1`, PostgREST's dialect): the schema `api` it serves, the roles a request
-- runs as, and the row-level-security policies that decide which rows each role sees.
--
-- How a request runs: the server's own database user (which owns the internal tables) opens a
-- transaction, switches to `kea_<role>` from the request's JWT (`set_config('role', …, true)`, the
-- same as `SET LOCAL ROLE`), stores the JWT claims in `request.jwt.claims`, and runs one statement
-- against the views below. The views are `security_invoker`, so the base tables' privileges and
-- row-level-security policies are checked against `kea_<role>`: a query that forgets a WHERE still
-- cannot see another merchant's rows. The owner is not subject to the policies (RLS is enabled, not
-- forced), so kea's own code (webhooks, jobs) is unaffected.
--
-- Views here are one-to-one over one internal table with the same column names: the server derives
-- the relationships it embeds through (`select=*,order_items(*)`) from the base tables' foreign keys.

-- Roles are cluster-wide and many databases of one cluster run this migration (tests): create
-- each one only if it is missing.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['kea_anon', 'kea_service', 'kea_merchant', 'kea_agent'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
        -- The server's user must be allowed to switch to the role (a superuser always is; from
        -- PostgreSQL 16 membership alone is not enough, the grant needs the SET option).
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           AND NOT pg_has_role(current_user, r,
                               CASE WHEN current_setting('server_version_num')::int >= 160000
                                    THEN 'SET' ELSE 'MEMBER' END)
        THEN
            EXECUTE format('GRANT %I TO %I', r, current_user);
        END IF;
    END LOOP;
END
$$;

-- A claim of the current request's JWT, or null (no claims, no such claim, or not a uuid).
CREATE FUNCTION kea_jwt_claim(claim text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> claim
$$;

CREATE FUNCTION kea_jwt_claim_uuid(claim text) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN kea_jwt_claim(claim)::uuid;
EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
END;
$$;

CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO kea_anon, kea_service, kea_merchant, kea_agent;

CREATE VIEW api.merchants WITH (security_invoker = true) AS
    SELECT id, name, created_at, updated_at FROM merchants;

-- Never the POS credentials (pos_secret, pos_access_token) nor the raw document.
CREATE VIEW api.stores WITH (security_invoker = true) AS
    SELECT id, merchant_id, name, phone, timezone, languages, tax_rate_bps, pickup, delivery,
           delivery_fee_cents, delivery_minimum_cents, pickup_minutes, delivery_minutes, hours,
           pos_kind, created_at, updated_at
    FROM stores;

CREATE VIEW api.menu_items WITH (security_invoker = true) AS
    SELECT store_id, sku, name, category, description, aliases, price_cents, default_size,
           available, position, created_at, updated_at
    FROM menu_items;

CREATE VIEW api.item_sizes WITH (security_invoker = true) AS
    SELECT store_id, item_sku, name, price_cents, aliases, position FROM item_sizes;

CREATE VIEW api.modifier_groups WITH (security_invoker = true) AS
    SELECT store_id, id, name, min_choices, max_choices, available, position FROM modifier_groups;

CREATE VIEW api.modifier_options WITH (security_invoker = true) AS
    SELECT store_id, group_id, sku, name, price_cents, aliases, available, position
    FROM modifier_options;

CREATE VIEW api.calls WITH (security_invoker = true) AS
    SELECT call_sid, store_id, from_number, to_number, status, outcome, language, turns,
           duration_seconds, started_at, ended_at, updated_at
    FROM calls;

CREATE VIEW api.call_events WITH (security_invoker = true) AS
    SELECT call_sid, seq, kind, payload, server_micros, at FROM call_events;

CREATE VIEW api.orders WITH (security_invoker = true) AS
    SELECT id, call_sid, store_id, status, customer_name, customer_phone, fulfillment,
           delivery_address, subtotal_cents, tax_cents, delivery_fee_cents, total_cents,
           confidence, ready_at, pos_ref, created_at, updated_at
    FROM orders;

CREATE VIEW api.order_items WITH (security_invoker = true) AS
    SELECT id, order_id, line_no, store_id, sku, name, size, quantity, modifiers,
           unit_price_cents, line_total_cents, notes
    FROM order_items;

CREATE VIEW api.tasks WITH (security_invoker = true) AS
    SELECT id, order_id, call_sid, store_id, kind, status, worker_id, priority, reason,
           created_at, updated_at
    FROM tasks;

CREATE VIEW api.workers WITH (security_invoker = true) AS
    SELECT id, name, attributes, activity, created_at, updated_at FROM workers;

-- Reading: the views for the three roles that may read, and the base tables under them (a
-- security_invoker view checks the caller's privileges on its tables). The stores grant names its
-- columns, so the POS credentials stay unreadable even to a direct query.
GRANT SELECT ON ALL TABLES IN SCHEMA api TO kea_service, kea_merchant, kea_agent;
GRANT SELECT ON merchants, menu_items, item_sizes, modifier_groups, modifier_options, calls,
    call_events, orders, order_items, tasks, workers
    TO kea_service, kea_merchant, kea_agent;
GRANT SELECT (id, merchant_id, name, phone, timezone, languages, tax_rate_bps, pickup, delivery,
    delivery_fee_cents, delivery_minimum_cents, pickup_minutes, delivery_minutes, hours, pos_kind,
    created_at, updated_at)
    ON stores TO kea_service, kea_merchant, kea_agent;

ALTER TABLE merchants ENABLE ROW LEVEL SECURITY;
ALTER TABLE stores ENABLE ROW LEVEL SECURITY;
ALTER TABLE menu_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE item_sizes ENABLE ROW LEVEL SECURITY;
ALTER TABLE modifier_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE modifier_options ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE workers ENABLE ROW LEVEL SECURITY;

-- service: everything.
CREATE POLICY service_read ON merchants FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON stores FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON menu_items FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON item_sizes FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON modifier_groups FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON modifier_options FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON calls FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON call_events FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON orders FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON order_items FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON tasks FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON workers FOR SELECT TO kea_service USING (true);

-- merchant: its own row, its stores, and what belongs to them. `(SELECT kea_jwt_claim_uuid(..))`
-- is evaluated once per statement, not once per row.
CREATE POLICY merchant_read ON merchants FOR SELECT TO kea_merchant
    USING (id = (SELECT kea_jwt_claim_uuid('merchant_id')));
CREATE POLICY merchant_read ON stores FOR SELECT TO kea_merchant
    USING (merchant_id = (SELECT kea_jwt_claim_uuid('merchant_id')));
CREATE POLICY merchant_read ON menu_items FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_read ON item_sizes FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_read ON modifier_groups FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_read ON modifier_options FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_read ON calls FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_read ON call_events FOR SELECT TO kea_merchant
    USING (call_sid IN (SELECT call_sid FROM calls));
CREATE POLICY merchant_read ON orders FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
CREATE POLICY merchant_read ON order_items FOR SELECT TO kea_merchant
    USING (order_id IN (SELECT id FROM orders));
CREATE POLICY merchant_read ON tasks FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores)
           OR order_id IN (SELECT id FROM orders)
           OR call_sid IN (SELECT call_sid FROM calls));

-- agent: its own worker row, the tasks offered or assigned to it, and the orders and calls
-- behind those tasks.
CREATE POLICY agent_read ON workers FOR SELECT TO kea_agent
    USING (id = (SELECT kea_jwt_claim_uuid('worker_id')));
CREATE POLICY agent_read ON tasks FOR SELECT TO kea_agent
    USING (worker_id = (SELECT kea_jwt_claim_uuid('worker_id')));
CREATE POLICY agent_read ON orders FOR SELECT TO kea_agent
    USING (id IN (SELECT order_id FROM tasks) OR call_sid IN (SELECT call_sid FROM tasks));
CREATE POLICY agent_read ON order_items FOR SELECT TO kea_agent
    USING (order_id IN (SELECT id FROM orders));
CREATE POLICY agent_read ON calls FOR SELECT TO kea_agent
    USING (call_sid IN (SELECT call_sid FROM tasks) OR call_sid IN (SELECT call_sid FROM orders));
CREATE POLICY agent_read ON call_events FOR SELECT TO kea_agent
    USING (call_sid IN (SELECT call_sid FROM calls));

-- anon: no grants on the views, so a request without a token is refused (42501 → 401).

-- A server that is running picks the new schema up without a restart.
NOTIFY pgrst, 'reload schema';
