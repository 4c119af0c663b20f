-- The order pipeline (kea-tasks): background jobs on apalis's PostgreSQL storage.
--
-- apalis's own migrations (schema `apalis`, history in `_apalis_migrations`) run before these,
-- so `apalis.jobs` exists here. Every job the pipeline needs is enqueued by PostgreSQL itself, by
-- triggers on `orders`, in the same transaction as the change that causes it: no job is lost
-- when a process dies after its commit, and none exists for a change that rolled back. Whoever
-- makes the change (the dialog placing an order, the `decide_order` job, an agent through the
-- data API, the POS job) gets the follow-up work without having to remember it.

-- Enqueues a job for kea-tasks. `job_type` is the job's queue name (kea_tasks::jobs::*::NAME);
-- `args` its JSON arguments; `key` makes enqueueing idempotent per job type (apalis's unique
-- index on (job_type, idempotency_key)): the same order is never queued twice for one step.
-- `max_attempts` (8, kea worker's default KEA_JOB_MAX_ATTEMPTS) bounds a job's attempts in all,
-- across worker restarts: after the last one fails it stays `Failed`, a dead letter.
CREATE FUNCTION kea_enqueue(job_type text, args jsonb, key text, max_attempts integer DEFAULT 8)
RETURNS void
LANGUAGE sql
VOLATILE
AS $$
    INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority,
                             metadata, idempotency_key)
    VALUES (apalis.generate_ulid(), job_type, convert_to(args::text, 'UTF8'), 'Pending', 0,
            max_attempts, now(), 0, ''::hstore, key)
    ON CONFLICT (job_type, idempotency_key) DO NOTHING
$$;

-- Orders start `pending_verification` (not yet decided) instead of `confirmed`: `decide_order`
-- confirms them or leaves them for an agent.
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending_verification';

-- What the pipeline learned about an order, for agents and for metrics.
ALTER TABLE orders
    ADD COLUMN decided_at      timestamptz,
    -- Why `decide_order` sent the order to an agent (null when it confirmed it).
    ADD COLUMN decision_reason text,
    ADD COLUMN sent_to_pos_at  timestamptz,
    -- The last POS error, kept for the agent who phones the store.
    ADD COLUMN pos_error       text;

-- SECURITY DEFINER: an agent or merchant changing an order through the data API has no right to
-- write apalis's tables, but the job its change causes must still be queued.
CREATE FUNCTION kea_orders_enqueue() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    args jsonb := jsonb_build_object('order_id', NEW.id);
    key  text := NEW.id::text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'pending_verification' THEN
            PERFORM kea_enqueue('extract_order', args, key);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        CASE NEW.status
            WHEN 'confirmed' THEN PERFORM kea_enqueue('push_order_to_pos', args, key);
            WHEN 'sent_to_pos' THEN PERFORM kea_enqueue('send_receipt', args, key);
            WHEN 'rejected', 'pos_failed' THEN
                PERFORM kea_enqueue('notify_order_problem', args, key);
            ELSE NULL;
        END CASE;
    END IF;
    RETURN NULL;
END
$$;

REVOKE EXECUTE ON FUNCTION kea_enqueue(text, jsonb, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION kea_orders_enqueue() FROM PUBLIC;

CREATE TRIGGER orders_enqueue AFTER INSERT OR UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION kea_orders_enqueue();

-- At most one open task of a kind per order, so a job that runs twice cannot ask two agents.
CREATE UNIQUE INDEX tasks_one_open_per_order_kind ON tasks (order_id, kind)
    WHERE order_id IS NOT NULL AND status NOT IN ('completed', 'canceled');

-- Every text message kea sent, and what Twilio last said about it (status callbacks).
CREATE TABLE sms_messages (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid REFERENCES orders (id),
    store_id      text REFERENCES stores (id),
    kind          text NOT NULL CHECK (kind IN ('receipt', 'order_problem')),
    message_sid   text UNIQUE,
    from_number   text NOT NULL,
    to_number     text NOT NULL,
    body          text NOT NULL,
    -- Twilio's MessageStatus: queued, sending, sent, delivered, undelivered, failed, …
    status        text NOT NULL,
    error_code    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- One message of a kind per order, however many times the job runs.
    UNIQUE (order_id, kind)
);
CREATE INDEX sms_messages_store_id_idx ON sms_messages (store_id);
CREATE TRIGGER sms_messages_touch BEFORE UPDATE ON sms_messages
    FOR EACH ROW EXECUTE FUNCTION kea_touch_updated_at();

ALTER TABLE sms_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY service_read ON sms_messages FOR SELECT TO kea_service USING (true);
CREATE POLICY merchant_read ON sms_messages FOR SELECT TO kea_merchant
    USING (store_id IN (SELECT id FROM stores));
GRANT SELECT ON sms_messages TO kea_service, kea_merchant;

CREATE VIEW api.sms_messages WITH (security_invoker = true) AS
    SELECT id, order_id, store_id, kind, message_sid, from_number, to_number, body, status,
           error_code, created_at, updated_at
    FROM sms_messages;
GRANT SELECT ON api.sms_messages TO kea_service, kea_merchant;

-- The job queue as operators see it. `dead` marks the dead-letter state: a job that failed on
-- every attempt it was allowed, or that was killed, and will not run again by itself.
-- Only the service role may read it (no grant to the others: 42501 → 403).
CREATE VIEW api.jobs WITH (security_invoker = true) AS
    SELECT id, job_type, status, attempts, max_attempts, run_at, lock_at, lock_by, done_at,
           last_result, idempotency_key,
           (status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts)) AS dead
    FROM apalis.jobs;
GRANT USAGE ON SCHEMA apalis TO kea_service;
GRANT SELECT ON apalis.jobs TO kea_service;
GRANT SELECT ON api.jobs TO kea_service;

NOTIFY pgrst, 'reload schema';
