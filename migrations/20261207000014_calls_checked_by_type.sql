-- A call's columns are checked by their types instead of by CHECK constraints on the tables.
--
-- PostgreSQL evaluates every CHECK constraint of a table on every row a statement inserts or
-- updates, whichever columns changed, and it first reads each constraint's expression back from
-- its stored text and plans it again, in every statement (ExecConstraints → stringToNode →
-- expression_planner: an eighth of PostgreSQL's CPU while callers only take turns, profiled
-- with perf under scripts/bench-calls). `calls` had seven, with two lists of eight strings, and each turn's
-- UPDATE of `calls` (which changes only its counters) paid for all of them; each turn's events
-- paid for three more. Measured with pgbench, a turn's statement took 0.19–0.22 ms of CPU with
-- them and 0.16 ms with the same rules kept as domains.
--
-- A domain's constraint is checked where a value is converted to it (an INSERT, or an UPDATE
-- that sets the column), from a plan the session keeps. So the rules stay what they were, for
-- kea's own statements and for writes through the data API (a violation is still 23514); the data
-- API still sees, filters and casts these columns as their base types (pgrst::exec's catalog
-- query reads a domain as its base type).
--
-- Without a table rewrite: a column changed to a domain that has constraints is rewritten, with
-- its table's indexes, under an exclusive lock (all calls would wait on a large `call_events`).
-- So the domains are made bare, the columns changed (their storage is the same: a change of
-- catalog, the indexes kept), and then given their constraints NOT VALID: every new value is
-- checked, and the rows already there are not read again, since the CHECK constraints they were
-- written under said the same.

CREATE DOMAIN call_status AS text;
CREATE DOMAIN call_outcome AS text;
CREATE DOMAIN call_event_kind AS text;
CREATE DOMAIN non_negative_integer AS integer;
CREATE DOMAIN non_negative_bigint AS bigint;

-- The data API's views name the columns whose types change; they are made again as they were.
DROP VIEW api.calls;
DROP VIEW api.call_events;

ALTER TABLE calls
    DROP CONSTRAINT calls_status_check,
    DROP CONSTRAINT calls_outcome_check,
    DROP CONSTRAINT calls_turns_check,
    DROP CONSTRAINT calls_next_event_seq_check,
    DROP CONSTRAINT calls_duration_seconds_check,
    ALTER COLUMN status TYPE call_status,
    ALTER COLUMN outcome TYPE call_outcome,
    ALTER COLUMN turns TYPE non_negative_integer,
    ALTER COLUMN next_event_seq TYPE non_negative_integer,
    ALTER COLUMN duration_seconds TYPE non_negative_integer;

ALTER TABLE call_events
    DROP CONSTRAINT call_events_kind_check,
    DROP CONSTRAINT call_events_seq_check,
    DROP CONSTRAINT call_events_server_micros_check,
    ALTER COLUMN kind TYPE call_event_kind,
    ALTER COLUMN seq TYPE non_negative_integer,
    ALTER COLUMN server_micros TYPE non_negative_bigint;

ALTER DOMAIN call_status ADD CONSTRAINT call_status_check
    CHECK (VALUE IN ('queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed',
                     'no-answer', 'canceled')) NOT VALID;
ALTER DOMAIN call_outcome ADD CONSTRAINT call_outcome_check
    CHECK (VALUE IN ('order_placed', 'transferred', 'cancelled', 'abandoned', 'failed',
                     'closed_hours', 'closed_today', 'paused')) NOT VALID;
ALTER DOMAIN call_event_kind ADD CONSTRAINT call_event_kind_check
    CHECK (VALUE IN ('webhook', 'twiml', 'state', 'status', 'error', 'message')) NOT VALID;
ALTER DOMAIN non_negative_integer ADD CONSTRAINT non_negative_integer_check
    CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN non_negative_bigint ADD CONSTRAINT non_negative_bigint_check
    CHECK (VALUE >= 0) NOT VALID;

-- A CallSid's form matters only when one is written: a trigger for INSERT and for an UPDATE that
-- sets `call_sid`, whose WHEN condition PostgreSQL evaluates without calling the function, so a
-- turn's UPDATE does not look at it. (The column keeps its type: policies and three foreign keys
-- name it.) The error is the CHECK constraint's, as before.
ALTER TABLE calls DROP CONSTRAINT calls_call_sid_check;
CREATE FUNCTION kea_refuse_call_sid() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'new row for relation "calls" violates check constraint "calls_call_sid_check"'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'calls_call_sid_check',
              TABLE = 'calls', COLUMN = 'call_sid',
              DETAIL = format('%L is not a Twilio CallSid (CA and 32 letters or digits).',
                              NEW.call_sid);
END
$$;
CREATE TRIGGER calls_call_sid_check BEFORE INSERT OR UPDATE OF call_sid ON calls
    FOR EACH ROW
    WHEN (NEW.call_sid !~ '^CA[0-9A-Za-z]{32}$')
    EXECUTE FUNCTION kea_refuse_call_sid();
-- (`calls_check`, ended_at ≥ started_at, stays a CHECK: it spans two columns, and is small.)

CREATE VIEW api.calls WITH (security_invoker = true) AS
    SELECT call_sid, store_id, from_number, to_number, status, outcome, language, turns,
           duration_seconds, started_at, ended_at, updated_at
    FROM calls;
CREATE VIEW api.call_events WITH (security_invoker = true) AS
    SELECT call_sid, seq, kind, payload, server_micros, at FROM call_events;
GRANT SELECT ON api.calls, api.call_events TO kea_service, kea_merchant, kea_agent;
GRANT INSERT, UPDATE, DELETE ON api.calls, api.call_events TO kea_service;

NOTIFY pgrst, 'reload schema';
