-- Recording a text's sid and a status callback were each a transaction of four or five round
-- trips (BEGIN, the sid's advisory lock, the update, perhaps the early status, COMMIT): a
-- status callback is a webhook, two or three per order. Each is now one call of a function
-- that does the same steps in the same order. In a VOLATILE PL/pgSQL function every statement
-- takes a fresh snapshot, so what the statements after the lock read is what was committed
-- before the lock was granted, as with the separate statements (see 20261126000006).

-- Records Twilio's answer to a message reserved for (order, kind): its sid and status, or the
-- status a callback already reported for that sid if it is further along.
CREATE FUNCTION kea_record_sms_sent(order_id uuid, kind text, message_sid text, status text)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    early_status text;
    early_error  text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kea.sms:' || kea_record_sms_sent.message_sid));
    DELETE FROM sms_status_early e WHERE e.message_sid = kea_record_sms_sent.message_sid
        RETURNING e.status, e.error_code INTO early_status, early_error;
    UPDATE sms_messages m SET
        message_sid = kea_record_sms_sent.message_sid,
        status = coalesce(kea_sms_status_after(kea_record_sms_sent.status, early_status),
                          kea_record_sms_sent.status),
        error_code = coalesce(early_error, m.error_code),
        updated_at = now()
     WHERE m.order_id = kea_record_sms_sent.order_id AND m.kind = kea_record_sms_sent.kind;
END
$$;

-- Records a status callback on the message with that sid, or keeps it for when the sid is
-- recorded. True when the message's row took it, false when it was kept early.
CREATE FUNCTION kea_record_sms_status(message_sid text, status text, error_code text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('kea.sms:' || kea_record_sms_status.message_sid));
    UPDATE sms_messages m SET
        status = kea_sms_status_after(m.status, kea_record_sms_status.status),
        error_code = coalesce(kea_record_sms_status.error_code, m.error_code),
        updated_at = now()
     WHERE m.message_sid = kea_record_sms_status.message_sid;
    IF FOUND THEN
        RETURN true;
    END IF;
    INSERT INTO sms_status_early AS e (message_sid, status, error_code)
    VALUES (kea_record_sms_status.message_sid, kea_record_sms_status.status,
            kea_record_sms_status.error_code)
    ON CONFLICT ON CONSTRAINT sms_status_early_pkey DO UPDATE SET
        status = kea_sms_status_after(e.status, EXCLUDED.status),
        error_code = coalesce(EXCLUDED.error_code, e.error_code);
    RETURN false;
END
$$;
