-- The statements that take a call's turns and status callbacks set `updated_at` themselves, so
-- the touch trigger (a PL/pgSQL call on every turn) runs only for an update that did not: a
-- write through the data API, say. The WHEN condition is evaluated without calling the function.
DROP TRIGGER calls_touch ON calls;
CREATE TRIGGER calls_touch BEFORE UPDATE ON calls FOR EACH ROW
    WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at)
    EXECUTE FUNCTION kea_touch_updated_at();
