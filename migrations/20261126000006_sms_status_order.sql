-- Message status callbacks, made safe against their two races.
--
-- 1. Twilio does not promise that status callbacks arrive in order: a late `sent` must not move a
--    `delivered` message back. Statuses are ranked in the order a message moves through them.
-- 2. Twilio may call back before kea has stored the message's sid from the answer to its send
--    (the callback and the answer race). Such a status is kept in `sms_status_early` and applied
--    when the sid is recorded. Both writers take the same advisory lock on the sid, so one of
--    them always sees the other's row.

-- Twilio's MessageStatus values in the order a message moves through them; a status Twilio adds
-- later counts as final (it is recorded, and only another final status replaces it).
CREATE FUNCTION kea_sms_status_rank(status text) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE status
            WHEN 'accepted' THEN 1
            WHEN 'scheduled' THEN 1
            WHEN 'queued' THEN 2
            WHEN 'sending' THEN 3
            WHEN 'sent' THEN 4
            WHEN 'read' THEN 6
            ELSE 5 -- delivered, undelivered, failed, canceled, partially_delivered, …
        END
    $$;

-- The status a message has after `reported` arrives when it had `current`: the one further along
-- (the reported one when they rank the same, so a final status can replace another).
CREATE FUNCTION kea_sms_status_after(current text, reported text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT CASE WHEN kea_sms_status_rank(reported) >= kea_sms_status_rank(current)
                    THEN reported ELSE current END
    $$;

CREATE TABLE sms_status_early (
    message_sid text PRIMARY KEY,
    status      text NOT NULL,
    error_code  text,
    received_at timestamptz NOT NULL DEFAULT now()
);
-- kea's own table: no data-API role reads it.
ALTER TABLE sms_status_early ENABLE ROW LEVEL SECURITY;
