-- A webhook turn is saved in one statement (kea_store::calls::save_turn): the call's row is
-- advanced only if it is still at the turn the webhook answered, and the turn's events are
-- numbered from a counter on that row, so no transaction, row lock or max(seq) scan is needed
-- and a status callback racing a turn can never take the same number.
ALTER TABLE calls ADD COLUMN next_event_seq integer NOT NULL DEFAULT 0 CHECK (next_event_seq >= 0);

ALTER TABLE calls DISABLE TRIGGER calls_touch;
UPDATE calls c SET next_event_seq = e.next
  FROM (SELECT call_sid, max(seq) + 1 AS next FROM call_events GROUP BY call_sid) e
 WHERE e.call_sid = c.call_sid;
ALTER TABLE calls ENABLE TRIGGER calls_touch;
