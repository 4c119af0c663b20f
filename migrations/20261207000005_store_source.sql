-- One source of truth for a store: what a merchant changes through the data API (the store's
-- settings and menu tables) is what the next call hears. The tables are the source for what they
-- hold; after every data-API write the server re-derives the store's document (what the dialog
-- and the jobs read) from them, validates it as `kea store import` would, and commits both or
-- neither (kea_store::store_sync). Triggers below note which stores a transaction touched, record
-- every change with its author, and tell every replica to drop its parsed copy.

-- The closure dates and the pause switch are settings a merchant changes, so they get columns.
ALTER TABLE stores
    ADD COLUMN closures jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(closures) = 'array'),
    ADD COLUMN phone_orders_paused boolean NOT NULL DEFAULT false;
UPDATE stores SET closures = coalesce(document->'closures', '[]'),
                  phone_orders_paused = coalesce((document->>'phone_orders_paused')::boolean, false);

CREATE OR REPLACE VIEW api.stores WITH (security_invoker = true) AS
    SELECT id, merchant_id, name, phone, timezone, languages, tax_rate_bps, pickup, delivery,
           delivery_fee_cents, delivery_minimum_cents, pickup_minutes, delivery_minutes, hours,
           pos_kind, created_at, updated_at, staff_phone, closures, phone_orders_paused
    FROM stores;
GRANT SELECT (closures, phone_orders_paused) ON stores TO kea_service, kea_merchant, kea_agent;
GRANT UPDATE (closures, phone_orders_paused) ON api.stores, stores TO kea_service, kea_merchant;

-- Which stores this transaction's writes touched (`kea.touched_stores`, space-separated).
CREATE FUNCTION kea_note_store_touched() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    row_json jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    store text := coalesce(row_json->>'store_id', row_json->>'id');
BEGIN
    PERFORM set_config('kea.touched_stores',
                       coalesce(current_setting('kea.touched_stores', true), '') || ' ' || store,
                       true);
    RETURN NULL;
END
$$;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['stores', 'menu_items', 'item_sizes', 'modifier_groups',
                             'modifier_options', 'item_modifier_groups'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                        FOR EACH ROW EXECUTE FUNCTION kea_note_store_touched()',
                       t || '_touched', t);
    END LOOP;
END
$$;

-- Every change to a store's document: who, when, how, before and after.
CREATE TABLE store_changes (
    id          bigserial PRIMARY KEY,
    store_id    text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    -- `merchant:<id>`, `service`, or `kea store import`.
    actor       text NOT NULL,
    via         text NOT NULL CHECK (via IN ('data_api', 'import')),
    before      jsonb,
    after       jsonb NOT NULL
);
CREATE INDEX store_changes_store_id_at_idx ON store_changes (store_id, at DESC);
ALTER TABLE store_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_read ON store_changes FOR SELECT TO kea_service USING (true);
CREATE POLICY merchant_read ON store_changes FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
GRANT SELECT ON store_changes TO kea_service, kea_merchant;
CREATE VIEW api.store_changes WITH (security_invoker = true) AS
    SELECT id, store_id, at, actor, via, before, after FROM store_changes;
GRANT SELECT ON api.store_changes TO kea_service, kea_merchant;

-- Every replica (kea serve, kea worker) drops its parsed copy of a store whose document changed.
CREATE FUNCTION kea_stores_changed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_notify('kea_stores', NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER stores_changed AFTER INSERT OR UPDATE OF document ON stores
    FOR EACH ROW EXECUTE FUNCTION kea_stores_changed();

NOTIFY pgrst, 'reload schema';
