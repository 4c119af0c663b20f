-- What an order costs PostgreSQL, measured with pg_stat_statements and perf under load
-- (scripts/bench-calls): most of it was not the rows but the machinery around them.

-- kea_enqueue in PL/pgSQL. A LANGUAGE sql function whose body is an INSERT is never inlined, so
-- PostgreSQL parsed, analysed and planned it again at every call; PL/pgSQL keeps the plan for
-- the session (measured with pgbench: 0.28 → 0.21 ms of CPU for a transaction that queues one
-- job). Same signature, same effect; any unique conflict is the idempotency key's (the id is a
-- fresh ULID).
CREATE OR REPLACE FUNCTION kea_enqueue(job_type text, args jsonb, key text, max_attempts integer DEFAULT 8)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority,
                             metadata, idempotency_key)
    VALUES (apalis.generate_ulid(), kea_enqueue.job_type, convert_to(kea_enqueue.args::text, 'UTF8'),
            'Pending', 0, kea_enqueue.max_attempts, now(), 0, ''::hstore, kea_enqueue.key)
    ON CONFLICT DO NOTHING;
END
$$;
REVOKE EXECUTE ON FUNCTION kea_enqueue(text, jsonb, text, integer) FROM PUBLIC;

-- The order triggers decide in their WHEN conditions, which PostgreSQL evaluates without calling
-- the function, whether there is anything to do. Each call of these SECURITY DEFINER functions
-- also saves and restores search_path; the pipeline's own status changes needed none of them.

-- A new order queues its first job; a status change queues the next one, except the changes the
-- pipeline job makes itself and then carries on from (`kea.pipeline_inline`, see
-- kea_orders_enqueue): the function still decides which job, as before.
DROP TRIGGER orders_enqueue ON orders;
CREATE TRIGGER orders_enqueue AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION kea_orders_enqueue();
CREATE TRIGGER orders_enqueue_next AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND (NEW.status IN ('rejected', 'pos_failed')
               OR (NEW.status IN ('confirmed', 'sent_to_pos')
                   AND coalesce(current_setting('kea.pipeline_inline', true), '') <> 'on')))
    EXECUTE FUNCTION kea_orders_enqueue();

-- Only an agent's change of status is guarded.
DROP TRIGGER orders_agent_guard ON orders;
CREATE TRIGGER orders_agent_guard BEFORE UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND kea_acting_agent() IS NOT NULL)
    EXECUTE FUNCTION kea_orders_agent_guard();

-- Only a settling change of status finishes the order's tasks.
DROP TRIGGER orders_finish_tasks ON orders;
CREATE TRIGGER orders_finish_tasks AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND NEW.status IN ('confirmed', 'rejected', 'cancelled', 'sent_to_pos'))
    EXECUTE FUNCTION kea_orders_finish_tasks();

-- As for calls (20261207000008): the pipeline's statements set updated_at themselves, and the
-- touch triggers run only for an update that did not.
DROP TRIGGER orders_touch ON orders;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW
    WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION kea_touch_updated_at();
DROP TRIGGER sms_messages_touch ON sms_messages;
CREATE TRIGGER sms_messages_touch BEFORE UPDATE ON sms_messages FOR EACH ROW
    WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION kea_touch_updated_at();
