-- A call's dialog state was written twice a turn: into `calls.state`, and into the turn's `state`
-- event (`payload.after`), which the replay record needs anyway. It is now written once, in the
-- event, and a call is read back with its last `state` event's `after` (kea_store::calls::
-- load_call; every version of kea has recorded it there, so calls in progress across the upgrade
-- read the same state). The call's row stays small: measured with pgbench, a turn's update of
-- `calls` without the state (about 400 bytes of JSON to parse into jsonb, store and log in the
-- WAL) took 0.155–0.163 ms instead of 0.174–0.186 ms. The column was never in the data API.
ALTER TABLE calls DROP COLUMN state;
