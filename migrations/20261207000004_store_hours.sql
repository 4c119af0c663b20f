-- Calls to a store that is not taking orders end with why: outside its hours, on a closure date,
-- or with phone orders paused by the merchant.
ALTER TABLE calls DROP CONSTRAINT calls_outcome_check;
ALTER TABLE calls ADD CONSTRAINT calls_outcome_check
    CHECK (outcome IN ('order_placed', 'transferred', 'cancelled', 'abandoned', 'failed',
                       'closed_hours', 'closed_today', 'paused'));
