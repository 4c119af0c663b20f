-- Agents in the loop: routing with Twilio TaskRouter's semantics inside kea, the console's
-- sign-in, and every agent action on record.
--
-- The moving parts and who moves them:
-- - A task is created `pending` (by the pipeline, or by a caller asking for a person).
-- - The router (`kea worker`, kea_tasks::router) offers it to one worker with `kea_reserve`: the
--   task becomes `reserved` with a `task_reservations` row that expires. `kea_reserve` locks the
--   worker's row before counting what it holds, so capacity holds however many routers run, and
--   the task only moves from `pending`, so no two workers ever hold one task.
-- - The agent accepts (`reserved` → `assigned`) or rejects (`reserved` → `pending`, offered to
--   someone else) through the data API or the console; both run as `kea_agent` with the agent's
--   claims, so `tasks_agent_guard` below is the one place that says what an agent may do.
-- - An unanswered offer times out (`kea_expire_reservations`), a worker who goes offline gives
--   its offers back, an order approved or rejected completes its tasks.
-- Every change of a task's status or holder is sent as `NOTIFY kea_tasks` (the router wakes, the
-- consoles of the workers concerned refresh) and recorded in `task_events`.

-- Workers: who they are to the console, how much they can hold, where a call reaches them.
ALTER TABLE workers
    ADD COLUMN email         text CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    -- argon2id PHC string; never served by the data API.
    ADD COLUMN password_hash text,
    ADD COLUMN capacity      integer NOT NULL DEFAULT 1 CHECK (capacity BETWEEN 1 AND 50),
    -- Where a transferred caller is connected: an E.164 number or `client:<identity>`.
    ADD COLUMN contact       text CHECK (contact ~ '^(\+[1-9][0-9]{6,14}|client:[A-Za-z0-9_.@-]{1,121})$'),
    -- Since when the worker has been free: the longest-idle worker is offered a task first.
    ADD COLUMN idle_since    timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX workers_email_key ON workers (lower(email)) WHERE email IS NOT NULL;

-- A merchant's people, who sign in with `kea merchant add`'s e-mail and password.
CREATE TABLE merchant_users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    merchant_id   uuid NOT NULL REFERENCES merchants (id),
    email         text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX merchant_users_email_key ON merchant_users (lower(email));
CREATE TRIGGER merchant_users_touch BEFORE UPDATE ON merchant_users
    FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();
ALTER TABLE merchant_users ENABLE ROW LEVEL SECURITY;

-- Console sessions. The cookie carries a random token; only its SHA-256 is stored, so a copy of
-- this table signs nobody in. Each session has its own CSRF token, sent back with every form.
CREATE TABLE console_sessions (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    worker_id    uuid NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL CHECK (length(csrf_token) >= 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_worker_id_idx ON console_sessions (worker_id);
ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;

-- Tasks: TaskRouter's attributes (what the workflow routes on) and the times of each step.
ALTER TABLE tasks
    ADD COLUMN attributes             jsonb NOT NULL DEFAULT '{}'
                                      CHECK (jsonb_typeof(attributes) = 'object'),
    ADD COLUMN reserved_at            timestamptz,
    ADD COLUMN reservation_expires_at timestamptz,
    ADD COLUMN assigned_at            timestamptz,
    ADD COLUMN finished_at            timestamptz,
    -- The workflow target that made the current or last offer ("default/0", …).
    ADD COLUMN routing_step           text;
CREATE INDEX tasks_pending_idx ON tasks (priority DESC, created_at) WHERE status = 'pending';
CREATE INDEX tasks_reserved_expiry_idx ON tasks (reservation_expires_at) WHERE status = 'reserved';
-- At most one transfer waiting per call.
CREATE UNIQUE INDEX tasks_one_open_transfer_per_call ON tasks (call_sid)
    WHERE kind = 'transfer' AND status NOT IN ('completed', 'canceled');

-- Offers: one row per worker a task was offered to, and what became of it.
CREATE TABLE task_reservations (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id      uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    worker_id    uuid NOT NULL REFERENCES workers (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'accepted', 'rejected', 'timeout', 'canceled',
                                   'rescinded')),
    routing_step text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    responded_at timestamptz
);
-- The invariant the router keeps, kept by PostgreSQL too: one live offer per task.
CREATE UNIQUE INDEX task_reservations_one_live ON task_reservations (task_id)
    WHERE status IN ('pending', 'accepted');
CREATE INDEX task_reservations_worker_idx ON task_reservations (worker_id, created_at);
ALTER TABLE task_reservations ENABLE ROW LEVEL SECURITY;

-- Everything that happened to a task or, through an agent, to an order: who (worker_id; null is
-- kea itself), when, what, and the details (an edited order's lines before and after).
CREATE TABLE task_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The record outlives what it is about (a task or worker deleted by an operator).
    task_id   uuid REFERENCES tasks (id) ON DELETE SET NULL,
    order_id  uuid REFERENCES orders (id) ON DELETE SET NULL,
    worker_id uuid REFERENCES workers (id) ON DELETE SET NULL,
    action    text NOT NULL CHECK (action IN (
                  'created', 'offered', 'accepted', 'rejected', 'timed_out', 'rescinded',
                  'completed', 'canceled', 'order_edited', 'order_approved', 'order_rejected',
                  'call_connected', 'activity')),
    detail    jsonb NOT NULL DEFAULT '{}',
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_events_task_idx ON task_events (task_id, id);
CREATE INDEX task_events_order_idx ON task_events (order_id, id) WHERE order_id IS NOT NULL;
ALTER TABLE task_events ENABLE ROW LEVEL SECURITY;

-- Stores: their own line, staffed by people, where a caller who cannot wait for an agent is put
-- through (not the Twilio number callers dial, which would ring kea again). Set by the merchant
-- through the data API; without one, such a caller is offered a call back.
ALTER TABLE stores ADD COLUMN staff_phone text CHECK (staff_phone ~ '^\+[1-9][0-9]{6,14}$');

-- Orders: which push round the POS job is on. An agent who approves a `pos_failed` order starts
-- a new round, so the push is queued again (the first round's job row is still in apalis.jobs).
ALTER TABLE orders ADD COLUMN push_round integer NOT NULL DEFAULT 0;
-- What the agent who rejected an order told the caller (the problem text carries it).
ALTER TABLE orders ADD COLUMN rejection_reason text CHECK (length(rejection_reason) <= 300);

-- The routing configuration, as TaskRouter's: queues of workers chosen by an expression over
-- their attributes, and a workflow whose filters route tasks to queues with escalating targets.
-- `kea worker` reads it (kea_routing parses and checks it) and picks up a change on NOTIFY.
CREATE TABLE task_queues (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    target_workers text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE workflows (
    name                 text PRIMARY KEY,
    configuration        jsonb NOT NULL,
    -- How long a worker has to accept an offer before it goes to the next one.
    reservation_timeout  integer NOT NULL DEFAULT 30 CHECK (reservation_timeout BETWEEN 5 AND 600),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
-- kea's default: the store's own agents first, anyone with the caller's language after 30 s,
-- any agent who does that kind of task after 2 minutes.
INSERT INTO task_queues (name, target_workers) VALUES ('everyone', '1 == 1');
INSERT INTO workflows (name, configuration) VALUES ('default', $json$
{"task_routing": {
  "filters": [
    {"filter_friendly_name": "every task", "expression": "1 == 1", "targets": [
      {"queue": "everyone", "timeout": 30,
       "expression": "worker.skills HAS task.kind AND worker.stores HAS task.store_id AND worker.languages HAS task.language"},
      {"queue": "everyone", "timeout": 90,
       "expression": "worker.skills HAS task.kind AND worker.languages HAS task.language"},
      {"queue": "everyone", "expression": "worker.skills HAS task.kind"}
    ]}
  ],
  "default_filter": {"queue": "everyone"}
}}
$json$);
ALTER TABLE task_queues ENABLE ROW LEVEL SECURITY;
ALTER TABLE workflows ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION kea_routing_config_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kea_routing_config', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER task_queues_changed AFTER INSERT OR UPDATE OR DELETE ON task_queues
    FOR EACH STATEMENT EXECUTE FUNCTION kea_routing_config_changed();
CREATE TRIGGER workflows_changed AFTER INSERT OR UPDATE OR DELETE ON workflows
    FOR EACH STATEMENT EXECUTE FUNCTION kea_routing_config_changed();

-- The primary language subtag of a BCP 47 tag ('es-US' → 'es').
CREATE FUNCTION kea_language_of(tag text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT lower(split_part(coalesce(tag, 'en'), '-', 1)) $$;

-- A task's attributes, as the workflow sees them: what kea knows, under what the creator gave.
CREATE FUNCTION kea_tasks_attributes() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    lang text;
BEGIN
    IF NEW.store_id IS NULL THEN
        NEW.store_id := coalesce((SELECT store_id FROM orders WHERE id = NEW.order_id),
                                 (SELECT store_id FROM calls WHERE call_sid = NEW.call_sid));
    END IF;
    IF NEW.call_sid IS NULL AND NEW.order_id IS NOT NULL THEN
        NEW.call_sid := (SELECT call_sid FROM orders WHERE id = NEW.order_id);
    END IF;
    lang := kea_language_of((SELECT language FROM calls WHERE call_sid = NEW.call_sid));
    NEW.attributes := jsonb_strip_nulls(jsonb_build_object(
        'kind', NEW.kind,
        'store_id', NEW.store_id,
        'language', lang,
        'priority', NEW.priority,
        'order_id', NEW.order_id,
        'call_sid', NEW.call_sid)) || NEW.attributes;
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_attributes BEFORE INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION kea_tasks_attributes();

-- An offer always lapses: a task made `reserved` by hand (the service role, an operator) gets
-- the workflow's reservation timeout like one the router made.
CREATE FUNCTION kea_tasks_offer_expiry() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF NEW.status = 'reserved' AND NEW.reservation_expires_at IS NULL THEN
        NEW.reserved_at := coalesce(NEW.reserved_at, now());
        NEW.reservation_expires_at := now() + make_interval(secs => coalesce(
            (SELECT reservation_timeout FROM workflows WHERE name = 'default'), 30));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_offer_expiry BEFORE INSERT OR UPDATE OF status ON tasks
    FOR EACH ROW EXECUTE FUNCTION kea_tasks_offer_expiry();

-- The worker acting through the data API or the console: the `worker_id` claim of an `agent`
-- token, null for anyone else (kea itself, the service role, merchants).
CREATE FUNCTION kea_acting_agent() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN kea_jwt_claim('role') = 'agent' THEN kea_jwt_claim_uuid('worker_id') END
$$;

-- Keeps `busy` kea's: a worker who is not offline is `busy` while it holds as many tasks as its
-- capacity, `available` otherwise. Call with the worker's row locked or about to be.
CREATE FUNCTION kea_worker_refresh_activity(w uuid) RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    held int;
BEGIN
    SELECT count(*) INTO held FROM tasks WHERE worker_id = w AND status IN ('reserved', 'assigned');
    UPDATE workers
       SET activity = CASE WHEN held >= capacity THEN 'busy' ELSE 'available' END,
           idle_since = CASE WHEN held = 0 THEN now() ELSE idle_since END
     WHERE id = w AND activity <> 'offline';
END
$$;

-- What an agent may do to a task it holds (see data-api.md, "Agents through the data API"):
-- accept an offer (reserved → assigned), reject it (reserved → pending: offered to someone
-- else), finish a callback or transfer it was assigned (assigned → completed). A `verify_order`
-- task is finished by approving or rejecting its order. Changes made by kea's own triggers
-- (pg_trigger_depth() > 1) and by kea's code (no agent claims) are not an agent's and pass.
CREATE FUNCTION kea_tasks_agent_guard() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    agent uuid := kea_acting_agent();
BEGIN
    IF agent IS NULL OR pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF OLD.worker_id IS DISTINCT FROM agent THEN
        RAISE EXCEPTION 'task % is not held by this agent', OLD.id
            USING ERRCODE = '42501', HINT = 'Only the agent a task is offered or assigned to may act on it.';
    END IF;
    IF NEW.status = OLD.status THEN
        RETURN NEW;  -- a note (`reason`) only
    END IF;
    IF OLD.status = 'reserved' AND NEW.status = 'assigned' THEN
        NEW.assigned_at := now();
        NEW.reservation_expires_at := NULL;
        UPDATE task_reservations SET status = 'accepted', responded_at = now()
         WHERE task_id = OLD.id AND worker_id = agent AND status = 'pending';
        INSERT INTO task_events (task_id, order_id, worker_id, action)
        VALUES (OLD.id, OLD.order_id, agent, 'accepted');
    ELSIF OLD.status = 'reserved' AND NEW.status = 'pending' THEN
        NEW.worker_id := NULL;
        NEW.reserved_at := NULL;
        NEW.reservation_expires_at := NULL;
        UPDATE task_reservations SET status = 'rejected', responded_at = now()
         WHERE task_id = OLD.id AND worker_id = agent AND status = 'pending';
        INSERT INTO task_events (task_id, order_id, worker_id, action, detail)
        VALUES (OLD.id, OLD.order_id, agent, 'rejected', jsonb_build_object('reason', NEW.reason));
        NEW.reason := OLD.reason;
    ELSIF OLD.status = 'assigned' AND NEW.status = 'completed' AND OLD.kind <> 'verify_order' THEN
        NEW.finished_at := now();
        INSERT INTO task_events (task_id, order_id, worker_id, action, detail)
        VALUES (OLD.id, OLD.order_id, agent, 'completed', jsonb_build_object('note', NEW.reason));
    ELSIF OLD.status = 'assigned' AND NEW.status = 'completed' THEN
        RAISE EXCEPTION 'a verify_order task is completed by approving or rejecting its order'
            USING ERRCODE = '22023',
                  HINT = 'PATCH /orders?id=eq.<order_id> with {"status": "confirmed"} or {"status": "rejected"}.';
    ELSE
        RAISE EXCEPTION 'an agent cannot move a task from % to %', OLD.status, NEW.status
            USING ERRCODE = '22023',
                  HINT = 'Accept an offer with "assigned", reject it with "pending"; finish a callback with "completed".';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_agent_guard BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION kea_tasks_agent_guard();

-- After any change of a task's status or holder: keep the workers' `busy` right, tell the router
-- and the consoles (`kea_tasks`: {"task": id, "workers": [old, new], "status": …}), and queue the
-- call's connection when a transfer is accepted.
CREATE FUNCTION kea_tasks_changed() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    old_worker uuid := CASE WHEN TG_OP = 'UPDATE' THEN OLD.worker_id END;
    old_status text := CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status
       AND NEW.worker_id IS NOT DISTINCT FROM OLD.worker_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_events (task_id, order_id, action, detail)
        VALUES (NEW.id, NEW.order_id, 'created',
                jsonb_build_object('kind', NEW.kind, 'reason', NEW.reason));
    END IF;
    IF old_worker IS NOT NULL THEN
        PERFORM kea_worker_refresh_activity(old_worker);
    END IF;
    IF NEW.worker_id IS NOT NULL AND NEW.worker_id IS DISTINCT FROM old_worker
       OR NEW.worker_id IS NOT NULL AND NEW.status IN ('completed', 'canceled') THEN
        PERFORM kea_worker_refresh_activity(NEW.worker_id);
    END IF;
    -- A finished task's live reservation is over too.
    IF NEW.status IN ('completed', 'canceled') THEN
        UPDATE task_reservations
           SET status = 'rescinded', responded_at = now()
         WHERE task_id = NEW.id AND status = 'pending';
    END IF;
    IF NEW.kind = 'transfer' AND NEW.status = 'assigned' AND old_status = 'reserved' THEN
        PERFORM kea_enqueue('connect_transfer', jsonb_build_object('task_id', NEW.id),
                            NEW.id::text);
    END IF;
    PERFORM pg_notify('kea_tasks', jsonb_build_object(
        'task', NEW.id,
        'status', NEW.status,
        'workers', (SELECT coalesce(jsonb_agg(DISTINCT w), '[]')
                      FROM unnest(ARRAY[old_worker, NEW.worker_id]) AS w WHERE w IS NOT NULL))::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER tasks_changed AFTER INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION kea_tasks_changed();

-- Offers task `t` to worker `w` if, at this instant, the task is still pending and the worker is
-- available with room to spare. The worker's row is locked first (so two routers cannot both
-- fill its last slot), then the task is taken only from `pending` (so two routers cannot both
-- offer it). Returns whether the offer was made.
CREATE FUNCTION kea_reserve(t uuid, w uuid, step text, timeout_secs integer) RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    cap int;
    held int;
BEGIN
    SELECT capacity INTO cap FROM workers WHERE id = w AND activity = 'available' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT count(*) INTO held FROM tasks WHERE worker_id = w AND status IN ('reserved', 'assigned');
    IF held >= cap THEN
        RETURN false;
    END IF;
    UPDATE tasks
       SET status = 'reserved', worker_id = w, reserved_at = now(),
           reservation_expires_at = now() + make_interval(secs => timeout_secs),
           routing_step = step
     WHERE id = t AND status = 'pending';
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO task_reservations (task_id, worker_id, routing_step, expires_at)
    VALUES (t, w, step, now() + make_interval(secs => timeout_secs));
    INSERT INTO task_events (task_id, order_id, worker_id, action, detail)
    SELECT t, order_id, w, 'offered', jsonb_build_object('step', step) FROM tasks WHERE id = t;
    RETURN true;
END
$$;

-- Offers nobody answered in time go back to `pending` (and to the next worker). Returns how many.
CREATE FUNCTION kea_expire_reservations() RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    n int;
BEGIN
    WITH expired AS (
        SELECT id, worker_id, order_id FROM tasks
         WHERE status = 'reserved' AND reservation_expires_at <= now()
         FOR UPDATE SKIP LOCKED
    ), released AS (
        UPDATE tasks SET status = 'pending', worker_id = NULL, reserved_at = NULL,
                         reservation_expires_at = NULL
          FROM expired WHERE tasks.id = expired.id
        RETURNING expired.id, expired.worker_id, expired.order_id
    ), marked AS (
        UPDATE task_reservations r SET status = 'timeout', responded_at = now()
          FROM released WHERE r.task_id = released.id AND r.status = 'pending'
        RETURNING r.id
    ), logged AS (
        INSERT INTO task_events (task_id, order_id, worker_id, action)
        SELECT id, order_id, worker_id, 'timed_out' FROM released
        RETURNING 1
    )
    SELECT count(*) INTO n FROM released;
    RETURN n;
END
$$;

-- What an agent may do to its own worker row: go `available` or `offline` (`busy` is kea's, and
-- an agent asking for `available` while it holds its capacity's worth stays `busy`).
CREATE FUNCTION kea_workers_activity() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    held int;
BEGIN
    IF NEW.activity = OLD.activity THEN
        RETURN NEW;
    END IF;
    IF kea_acting_agent() IS NOT NULL AND pg_trigger_depth() = 1 AND NEW.activity = 'busy' THEN
        RAISE EXCEPTION 'busy is set by kea while an agent holds as many tasks as its capacity'
            USING ERRCODE = '22023', HINT = 'Set "available" or "offline".';
    END IF;
    IF NEW.activity = 'available' THEN
        SELECT count(*) INTO held FROM tasks
         WHERE worker_id = NEW.id AND status IN ('reserved', 'assigned');
        IF held >= NEW.capacity THEN
            NEW.activity := 'busy';
        ELSIF OLD.activity = 'offline' OR held = 0 THEN
            NEW.idle_since := now();
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER workers_activity BEFORE UPDATE OF activity ON workers
    FOR EACH ROW EXECUTE FUNCTION kea_workers_activity();

-- After a change of activity: going offline gives back the offers the worker holds (rescinded,
-- offered to the next worker; the tasks it accepted stay its own); the router and the worker's
-- console are told.
CREATE FUNCTION kea_workers_activity_changed() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
BEGIN
    IF NEW.activity = OLD.activity THEN
        RETURN NULL;
    END IF;
    IF NEW.activity = 'offline' THEN
        UPDATE task_reservations SET status = 'rescinded', responded_at = now()
         WHERE worker_id = NEW.id AND status = 'pending';
        WITH released AS (
            UPDATE tasks SET status = 'pending', worker_id = NULL, reserved_at = NULL,
                             reservation_expires_at = NULL
             WHERE worker_id = NEW.id AND status = 'reserved'
            RETURNING id, order_id
        )
        INSERT INTO task_events (task_id, order_id, worker_id, action, detail)
        SELECT id, order_id, NEW.id, 'rescinded', '{"why": "worker went offline"}' FROM released;
    END IF;
    IF pg_trigger_depth() = 1 THEN
        INSERT INTO task_events (worker_id, action, detail)
        VALUES (NEW.id, 'activity', jsonb_build_object('from', OLD.activity, 'to', NEW.activity));
    END IF;
    PERFORM pg_notify('kea_tasks', jsonb_build_object('workers', jsonb_build_array(NEW.id),
                                                      'activity', NEW.activity)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER workers_activity_changed AFTER UPDATE OF activity ON workers
    FOR EACH ROW EXECUTE FUNCTION kea_workers_activity_changed();

-- What an agent may do to an order: approve (→ confirmed) or reject (→ rejected) one that is
-- `pending_verification` or `pos_failed`, while it holds that order's verify_order or callback
-- task. The tasks are then completed; approving a `pos_failed` order starts a new push round.
CREATE FUNCTION kea_orders_agent_guard() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    agent uuid := kea_acting_agent();
BEGIN
    IF NEW.status IS NOT DISTINCT FROM OLD.status OR agent IS NULL OR pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT FROM tasks WHERE order_id = OLD.id AND worker_id = agent
                                       AND status = 'assigned'
                                       AND kind IN ('verify_order', 'callback')) THEN
        RAISE EXCEPTION 'order % is not this agent''s to decide', OLD.id
            USING ERRCODE = '42501',
                  HINT = 'Accept the order''s verify_order or callback task first.';
    END IF;
    IF OLD.status NOT IN ('pending_verification', 'pos_failed') THEN
        RAISE EXCEPTION 'order % is % and can no longer be approved or rejected', OLD.id, OLD.status
            USING ERRCODE = '22023';
    END IF;
    IF NEW.status = 'confirmed' AND OLD.status = 'pos_failed' THEN
        NEW.push_round := OLD.push_round + 1;
    END IF;
    NEW.decided_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER orders_agent_guard BEFORE UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION kea_orders_agent_guard();

-- Once an order is decided (approved, rejected, cancelled, or pushed), its open verify and
-- callback tasks are done: completed when an agent decided it, canceled otherwise.
CREATE FUNCTION kea_orders_finish_tasks() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    agent uuid := kea_acting_agent();
BEGIN
    IF NEW.status IS NOT DISTINCT FROM OLD.status
       OR NEW.status NOT IN ('confirmed', 'rejected', 'cancelled', 'sent_to_pos') THEN
        RETURN NULL;
    END IF;
    IF agent IS NOT NULL THEN
        INSERT INTO task_events (task_id, order_id, worker_id, action, detail)
        SELECT id, OLD.id, agent,
               CASE WHEN NEW.status = 'confirmed' THEN 'order_approved' ELSE 'order_rejected' END,
               jsonb_strip_nulls(jsonb_build_object('from', OLD.status, 'to', NEW.status,
                                  'push_round', NEW.push_round,
                                  'reason', NEW.rejection_reason))
          FROM tasks WHERE order_id = OLD.id AND worker_id = agent AND status = 'assigned'
                       AND kind IN ('verify_order', 'callback')
         LIMIT 1;
    END IF;
    WITH finished AS (
        UPDATE tasks
           SET status = CASE WHEN status = 'assigned' AND worker_id = agent THEN 'completed'
                             ELSE 'canceled' END,
               finished_at = now()
         WHERE order_id = OLD.id AND kind IN ('verify_order', 'callback')
           AND status NOT IN ('completed', 'canceled')
           -- A callback opened by the POS failure stays open until someone deals with it,
           -- unless the order itself is settled.
           AND (kind = 'verify_order' OR NEW.status <> 'confirmed' OR agent IS NOT NULL)
        RETURNING id, status
    )
    INSERT INTO task_events (task_id, order_id, worker_id, action)
    SELECT id, OLD.id, agent, status FROM finished;
    RETURN NULL;
END
$$;
CREATE TRIGGER orders_finish_tasks AFTER UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION kea_orders_finish_tasks();

-- The pipeline's trigger, now with push rounds: round 0 keeps the order id as its key (jobs
-- already queued keep working); an agent's re-approval queues round n as `<id>:n`.
CREATE OR REPLACE FUNCTION kea_orders_enqueue() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    args jsonb := jsonb_build_object('order_id', NEW.id);
    key  text := NEW.id::text;
    push_key text := CASE WHEN NEW.push_round = 0 THEN NEW.id::text
                          ELSE NEW.id::text || ':' || NEW.push_round END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'pending_verification' THEN
            PERFORM kea_enqueue('extract_order', args, key);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        CASE NEW.status
            WHEN 'confirmed' THEN PERFORM kea_enqueue('push_order_to_pos', args, push_key);
            WHEN 'sent_to_pos' THEN PERFORM kea_enqueue('send_receipt', args, key);
            WHEN 'rejected', 'pos_failed' THEN
                PERFORM kea_enqueue('notify_order_problem', args, key);
            ELSE NULL;
        END CASE;
    END IF;
    RETURN NULL;
END
$$;

REVOKE EXECUTE ON FUNCTION kea_reserve(uuid, uuid, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kea_expire_reservations() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kea_worker_refresh_activity(uuid) FROM PUBLIC;

-- The data API: tasks and workers as they are now, the offers, and the record.
CREATE OR REPLACE VIEW api.tasks WITH (security_invoker = true) AS
    SELECT id, order_id, call_sid, store_id, kind, status, worker_id, priority, reason,
           created_at, updated_at, attributes, reserved_at, reservation_expires_at, assigned_at,
           finished_at, routing_step,
           extract(epoch FROM (coalesce(finished_at, now()) - created_at))::integer AS age
    FROM tasks;
CREATE OR REPLACE VIEW api.stores WITH (security_invoker = true) AS
    SELECT id, merchant_id, name, phone, timezone, languages, tax_rate_bps, pickup, delivery,
           delivery_fee_cents, delivery_minimum_cents, pickup_minutes, delivery_minutes, hours,
           pos_kind, created_at, updated_at, staff_phone
    FROM stores;
GRANT SELECT (staff_phone) ON stores TO kea_service, kea_merchant, kea_agent;
GRANT UPDATE (staff_phone) ON api.stores, stores TO kea_service, kea_merchant;

-- Orders: what the pipeline and the agents decided, and why (an agent verifying reads it).
CREATE OR REPLACE VIEW api.orders WITH (security_invoker = true) AS
    SELECT id, call_sid, store_id, status, customer_name, customer_phone, fulfillment,
           delivery_address, subtotal_cents, tax_cents, delivery_fee_cents, total_cents,
           confidence, ready_at, pos_ref, created_at, updated_at, decided_at, decision_reason,
           sent_to_pos_at, pos_error, push_round, rejection_reason
    FROM orders;
CREATE OR REPLACE VIEW api.workers WITH (security_invoker = true) AS
    SELECT id, name, attributes, activity, created_at, updated_at, capacity, contact, idle_since
    FROM workers;
CREATE VIEW api.task_reservations WITH (security_invoker = true) AS
    SELECT id, task_id, worker_id, status, routing_step, created_at, expires_at, responded_at
    FROM task_reservations;
CREATE VIEW api.task_events WITH (security_invoker = true) AS
    SELECT id, task_id, order_id, worker_id, action, detail, at FROM task_events;
CREATE VIEW api.task_queues WITH (security_invoker = true) AS
    SELECT name, target_workers, updated_at FROM task_queues;
CREATE VIEW api.workflows WITH (security_invoker = true) AS
    SELECT name, configuration, reservation_timeout, updated_at FROM workflows;

GRANT SELECT ON api.task_reservations, api.task_events TO kea_service, kea_merchant, kea_agent;
GRANT SELECT ON task_reservations, task_events TO kea_service, kea_merchant, kea_agent;
GRANT SELECT ON api.task_queues, api.workflows, task_queues, workflows TO kea_service, kea_agent;
GRANT INSERT, UPDATE, DELETE ON api.task_queues, api.workflows, task_queues, workflows TO kea_service;
-- The password hash is nobody's to read through the API: the columns are granted one by one.
REVOKE SELECT ON workers FROM kea_service, kea_merchant, kea_agent;
GRANT SELECT (id, name, attributes, activity, created_at, updated_at, capacity, contact,
              idle_since, email)
    ON workers TO kea_service, kea_merchant, kea_agent;

CREATE POLICY service_read ON task_reservations FOR SELECT TO kea_service USING (true);
CREATE POLICY service_read ON task_events FOR SELECT TO kea_service USING (true);
CREATE POLICY service_all ON task_queues FOR ALL TO kea_service USING (true) WITH CHECK (true);
CREATE POLICY service_all ON workflows FOR ALL TO kea_service USING (true) WITH CHECK (true);
CREATE POLICY agent_read ON task_queues FOR SELECT TO kea_agent USING (true);
CREATE POLICY agent_read ON workflows FOR SELECT TO kea_agent USING (true);
-- merchant: the record of its own orders (who verified what).
CREATE POLICY merchant_read ON task_events FOR SELECT TO kea_merchant
    USING (order_id IN (SELECT id FROM orders));
CREATE POLICY merchant_read ON task_reservations FOR SELECT TO kea_merchant
    USING (task_id IN (SELECT id FROM tasks));
-- agent: its own offers, and the record of its tasks and of the orders behind them.
CREATE POLICY agent_read ON task_reservations FOR SELECT TO kea_agent
    USING (worker_id = (SELECT kea_jwt_claim_uuid('worker_id')));
-- An agent sees the tasks it holds and those it was offered (so the one it just rejected is
-- still its to read back).
DROP POLICY agent_read ON tasks;
CREATE POLICY agent_read ON tasks FOR SELECT TO kea_agent
    USING (worker_id = (SELECT kea_jwt_claim_uuid('worker_id'))
           OR id IN (SELECT task_id FROM task_reservations));
CREATE POLICY agent_read ON task_events FOR SELECT TO kea_agent
    USING (worker_id = (SELECT kea_jwt_claim_uuid('worker_id'))
           OR task_id IN (SELECT id FROM tasks)
           OR order_id IN (SELECT id FROM orders));

-- An agent may set its own activity, nothing else of a worker.
GRANT UPDATE (activity) ON api.workers, workers TO kea_agent;
CREATE POLICY agent_update ON workers FOR UPDATE TO kea_agent
    USING (id = (SELECT kea_jwt_claim_uuid('worker_id')))
    WITH CHECK (id = (SELECT kea_jwt_claim_uuid('worker_id')) AND activity IN ('available', 'offline', 'busy'));

-- An agent rejecting an offer hands the task back: afterwards it holds it no more (worker_id is
-- cleared by the guard), which the old WITH CHECK refused.
DROP POLICY agent_update ON tasks;
CREATE POLICY agent_update ON tasks FOR UPDATE TO kea_agent
    USING (worker_id = (SELECT kea_jwt_claim_uuid('worker_id')))
    WITH CHECK (worker_id = (SELECT kea_jwt_claim_uuid('worker_id'))
                OR (worker_id IS NULL AND status = 'pending'));
-- An agent decides the orders of the tasks it holds (the guard checks it holds one, assigned),
-- saying why when it rejects one (texted to the caller).
GRANT UPDATE (rejection_reason) ON api.orders, orders TO kea_agent;
DROP POLICY agent_update ON orders;
CREATE POLICY agent_update ON orders FOR UPDATE TO kea_agent
    USING (id IN (SELECT order_id FROM tasks))
    WITH CHECK (status IN ('confirmed', 'rejected'));

NOTIFY pgrst, 'reload schema';
