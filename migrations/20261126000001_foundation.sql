-- kea's internal schema: merchants, stores and their menus, calls and their event log, orders,
-- agents' tasks and the workers who take them.
--
-- Conventions: money is integer cents (bigint), times are timestamptz, every enum-like column has a
-- CHECK constraint naming its allowed values, and nothing that an order refers to is ever deleted
-- (a menu item that leaves the menu is marked unavailable instead).
-- The data API serves views over these tables from a separate schema (`api`), added by a later
-- migration, so these tables can change without breaking clients.

-- Keeps `updated_at` honest on every UPDATE, whoever issues it.
CREATE FUNCTION kea_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE merchants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stores (
    id                      text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    merchant_id             uuid NOT NULL REFERENCES merchants (id),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The Twilio number callers dial (the webhook's `To`): one store per number.
    phone                   text NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    timezone                text NOT NULL CHECK (length(timezone) > 0),
    languages               text[] NOT NULL DEFAULT ARRAY['en-US']
                            CHECK (cardinality(languages) >= 1),
    tax_rate_bps            integer NOT NULL CHECK (tax_rate_bps BETWEEN 0 AND 5000),
    pickup                  boolean NOT NULL DEFAULT true,
    delivery                boolean NOT NULL DEFAULT false,
    delivery_fee_cents      bigint NOT NULL DEFAULT 0 CHECK (delivery_fee_cents >= 0),
    delivery_minimum_cents  bigint NOT NULL DEFAULT 0 CHECK (delivery_minimum_cents >= 0),
    pickup_minutes          integer NOT NULL DEFAULT 20 CHECK (pickup_minutes >= 0),
    delivery_minutes        integer NOT NULL DEFAULT 45 CHECK (delivery_minutes >= 0),
    -- {"mon": ["11:00", "22:00"], ...} in the store's local time; absent days are closed.
    hours                   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(hours) = 'object'),
    pos_kind                text NOT NULL DEFAULT 'none' CHECK (pos_kind IN ('webhook', 'square', 'none')),
    pos_url                 text,
    -- A plain secret or a `vault:<mount>/<path>#<key>` reference, resolved when used.
    pos_secret              text,
    pos_location_id         text,
    pos_access_token        text,
    pos_base_url            text,
    -- The whole store document as last imported (canonical form), so a webhook turn can load the
    -- menu the dialog needs with one row read.
    document                jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (pickup OR delivery),
    CHECK (pos_kind <> 'webhook' OR (pos_url IS NOT NULL AND pos_secret IS NOT NULL)),
    CHECK (pos_kind <> 'square' OR (pos_location_id IS NOT NULL AND pos_access_token IS NOT NULL))
);
CREATE INDEX stores_merchant_id_idx ON stores (merchant_id);

CREATE TABLE menu_items (
    store_id        text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    sku             text NOT NULL CHECK (sku ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL CHECK (length(name) > 0),
    category        text,
    description     text,
    aliases         text[] NOT NULL DEFAULT '{}',
    -- Set for items without sizes; items with sizes are priced by `item_sizes`.
    price_cents     bigint CHECK (price_cents >= 0),
    default_size    text,
    available       boolean NOT NULL DEFAULT true,
    -- Position in the store file, so menus read back in the merchant's order.
    position        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, sku)
);

CREATE TABLE item_sizes (
    store_id        text NOT NULL,
    item_sku        text NOT NULL,
    name            text NOT NULL CHECK (length(name) > 0),
    price_cents     bigint NOT NULL CHECK (price_cents >= 0),
    aliases         text[] NOT NULL DEFAULT '{}',
    position        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, item_sku, name),
    FOREIGN KEY (store_id, item_sku) REFERENCES menu_items (store_id, sku) ON DELETE CASCADE
);

CREATE TABLE modifier_groups (
    store_id        text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    id              text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL,
    min_choices     integer NOT NULL CHECK (min_choices >= 0),
    max_choices     integer NOT NULL CHECK (max_choices >= 1),
    available       boolean NOT NULL DEFAULT true,
    position        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, id),
    CHECK (min_choices <= max_choices)
);

CREATE TABLE modifier_options (
    store_id        text NOT NULL,
    group_id        text NOT NULL,
    sku             text NOT NULL CHECK (sku ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL CHECK (length(name) > 0),
    price_cents     bigint NOT NULL CHECK (price_cents >= 0),
    aliases         text[] NOT NULL DEFAULT '{}',
    available       boolean NOT NULL DEFAULT true,
    position        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, group_id, sku),
    FOREIGN KEY (store_id, group_id) REFERENCES modifier_groups (store_id, id) ON DELETE CASCADE
);

-- Which modifier groups an item offers, in the order the menu lists them.
CREATE TABLE item_modifier_groups (
    store_id        text NOT NULL,
    item_sku        text NOT NULL,
    group_id        text NOT NULL,
    position        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, item_sku, group_id),
    FOREIGN KEY (store_id, item_sku) REFERENCES menu_items (store_id, sku) ON DELETE CASCADE,
    FOREIGN KEY (store_id, group_id) REFERENCES modifier_groups (store_id, id) ON DELETE CASCADE
);

-- One row per phone call, keyed by Twilio's CallSid; the dialog state lives here between turns so
-- any API replica can take any turn.
CREATE TABLE calls (
    call_sid        text PRIMARY KEY CHECK (call_sid ~ '^CA[0-9A-Za-z]{32}$'),
    store_id        text NOT NULL REFERENCES stores (id),
    account_sid     text,
    from_number     text NOT NULL,
    to_number       text NOT NULL,
    -- Twilio's CallStatus values.
    status          text NOT NULL DEFAULT 'in-progress'
                    CHECK (status IN ('queued', 'ringing', 'in-progress', 'completed', 'busy',
                                      'failed', 'no-answer', 'canceled')),
    -- Null while the call is live.
    outcome         text CHECK (outcome IN ('order_placed', 'transferred', 'cancelled', 'abandoned', 'failed')),
    language        text NOT NULL DEFAULT 'en-US',
    -- The dialog engine's state after the last turn, and how many turns it has taken.
    state           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
    turns           integer NOT NULL DEFAULT 0 CHECK (turns >= 0),
    duration_seconds integer CHECK (duration_seconds >= 0),
    started_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX calls_store_id_started_at_idx ON calls (store_id, started_at DESC);

-- The append-only replay record of a call: every webhook in, every TwiML document out, every dialog
-- state change, with the server time it took.
CREATE TABLE call_events (
    call_sid        text NOT NULL REFERENCES calls (call_sid) ON DELETE CASCADE,
    seq             integer NOT NULL CHECK (seq >= 0),
    kind            text NOT NULL CHECK (kind IN ('webhook', 'twiml', 'state', 'status', 'error', 'message')),
    payload         jsonb NOT NULL,
    -- Server-side time spent on the turn this event belongs to, in microseconds.
    server_micros   bigint CHECK (server_micros >= 0),
    at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_sid, seq)
);

CREATE TABLE orders (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- At most one order per call: a repeated webhook cannot place a second one.
    call_sid            text UNIQUE REFERENCES calls (call_sid),
    store_id            text NOT NULL REFERENCES stores (id),
    status              text NOT NULL DEFAULT 'confirmed'
                        CHECK (status IN ('pending_verification', 'confirmed', 'sent_to_pos',
                                          'pos_failed', 'rejected', 'cancelled')),
    customer_name       text,
    customer_phone      text CHECK (customer_phone ~ '^\+[1-9][0-9]{6,14}$'),
    fulfillment         text NOT NULL CHECK (fulfillment IN ('pickup', 'delivery')),
    delivery_address    text,
    subtotal_cents      bigint NOT NULL CHECK (subtotal_cents >= 0),
    tax_cents           bigint NOT NULL CHECK (tax_cents >= 0),
    delivery_fee_cents  bigint NOT NULL DEFAULT 0 CHECK (delivery_fee_cents >= 0),
    total_cents         bigint NOT NULL,
    -- How sure kea is that the order is what the caller wanted, 0..1.
    confidence          real CHECK (confidence BETWEEN 0 AND 1),
    ready_at            timestamptz,
    -- The POS's own reference once it accepted the order.
    pos_ref             text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (total_cents = subtotal_cents + tax_cents + delivery_fee_cents),
    CHECK (fulfillment = 'delivery' OR delivery_fee_cents = 0),
    CHECK (fulfillment = 'pickup' OR delivery_address IS NOT NULL)
);
CREATE INDEX orders_store_id_status_created_at_idx ON orders (store_id, status, created_at DESC);

CREATE TABLE order_items (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id            uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no             integer NOT NULL CHECK (line_no >= 1),
    store_id            text NOT NULL,
    sku                 text NOT NULL,
    -- The item's name as it was when ordered (menus change; orders do not).
    name                text NOT NULL,
    size                text,
    quantity            integer NOT NULL CHECK (quantity >= 1),
    -- Option skus, e.g. ["extra-cheese", "thin-crust"].
    modifiers           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(modifiers) = 'array'),
    unit_price_cents    bigint NOT NULL CHECK (unit_price_cents >= 0),
    line_total_cents    bigint NOT NULL,
    notes               text,
    UNIQUE (order_id, line_no),
    FOREIGN KEY (store_id, sku) REFERENCES menu_items (store_id, sku),
    CHECK (line_total_cents = unit_price_cents * quantity)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);

-- Call-center agents.
CREATE TABLE workers (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) > 0),
    -- {"skills": [...], "languages": ["en-US", "es-US"]}
    attributes  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    activity    text NOT NULL DEFAULT 'offline' CHECK (activity IN ('available', 'busy', 'offline')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Work for a person: verify an order, phone a store or a caller back, take a transferred call.
CREATE TABLE tasks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id    uuid REFERENCES orders (id),
    call_sid    text REFERENCES calls (call_sid),
    store_id    text REFERENCES stores (id),
    kind        text NOT NULL CHECK (kind IN ('verify_order', 'callback', 'transfer')),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'reserved', 'assigned', 'completed', 'canceled')),
    worker_id   uuid REFERENCES workers (id),
    priority    integer NOT NULL DEFAULT 0,
    -- Why the task exists, in words an agent reads ("POS refused the order: 422 ...").
    reason      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (status NOT IN ('reserved', 'assigned') OR worker_id IS NOT NULL),
    CHECK (order_id IS NOT NULL OR call_sid IS NOT NULL)
);
CREATE INDEX tasks_status_priority_idx ON tasks (status, priority DESC, created_at);
CREATE INDEX tasks_worker_id_idx ON tasks (worker_id) WHERE worker_id IS NOT NULL;
CREATE INDEX tasks_order_id_idx ON tasks (order_id) WHERE order_id IS NOT NULL;

CREATE TRIGGER merchants_touch BEFORE UPDATE ON merchants FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
CREATE TRIGGER stores_touch BEFORE UPDATE ON stores FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
CREATE TRIGGER menu_items_touch BEFORE UPDATE ON menu_items FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
CREATE TRIGGER calls_touch BEFORE UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
CREATE TRIGGER workers_touch BEFORE UPDATE ON workers FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
CREATE TRIGGER tasks_touch BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
