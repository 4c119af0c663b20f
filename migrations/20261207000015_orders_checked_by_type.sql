-- An order's single-column rules become its columns' types, as a call's did (20261207000014, which
-- says why): every statement that writes an order (the turn that places it, then the pipeline's
-- confirmation and its record of the push) re-read and re-planned all twelve CHECK constraints of
-- `orders`. The three rules that span columns stay CHECK constraints.
--
-- The view, the policy and the triggers that name `status` are made again exactly as they were
-- (20261207000001, 20261207000003, 20261207000009), with the view's grants. As there, the
-- domains get their constraints once the columns are theirs, NOT VALID: no rewrite of `orders`.

CREATE DOMAIN order_status AS text;
-- An amount of money in cents (not `non_negative_bigint`: that one has its constraint already,
-- and a column changed to a domain with a constraint is rewritten).
CREATE DOMAIN cents AS bigint;
CREATE DOMAIN order_fulfillment AS text;
CREATE DOMAIN e164_phone AS text;
CREATE DOMAIN order_confidence AS real;
CREATE DOMAIN order_rejection_reason AS text;

DROP VIEW api.orders;
DROP POLICY agent_update ON orders;
DROP TRIGGER orders_enqueue_next ON orders;
DROP TRIGGER orders_agent_guard ON orders;
DROP TRIGGER orders_finish_tasks ON orders;

ALTER TABLE orders
    DROP CONSTRAINT orders_status_check,
    DROP CONSTRAINT orders_fulfillment_check,
    DROP CONSTRAINT orders_customer_phone_check,
    DROP CONSTRAINT orders_subtotal_cents_check,
    DROP CONSTRAINT orders_tax_cents_check,
    DROP CONSTRAINT orders_delivery_fee_cents_check,
    DROP CONSTRAINT orders_confidence_check,
    DROP CONSTRAINT orders_rejection_reason_check,
    ALTER COLUMN status TYPE order_status,
    ALTER COLUMN fulfillment TYPE order_fulfillment,
    ALTER COLUMN customer_phone TYPE e164_phone,
    ALTER COLUMN subtotal_cents TYPE cents,
    ALTER COLUMN tax_cents TYPE cents,
    ALTER COLUMN delivery_fee_cents TYPE cents,
    ALTER COLUMN confidence TYPE order_confidence,
    ALTER COLUMN rejection_reason TYPE order_rejection_reason;

ALTER DOMAIN order_status ADD CONSTRAINT order_status_check
    CHECK (VALUE IN ('pending_verification', 'confirmed', 'sent_to_pos', 'pos_failed', 'rejected',
                     'cancelled')) NOT VALID;
ALTER DOMAIN cents ADD CONSTRAINT cents_check CHECK (VALUE >= 0) NOT VALID;
ALTER DOMAIN order_fulfillment ADD CONSTRAINT order_fulfillment_check
    CHECK (VALUE IN ('pickup', 'delivery')) NOT VALID;
-- E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
ALTER DOMAIN e164_phone ADD CONSTRAINT e164_phone_check
    CHECK (VALUE ~ '^\+[1-9][0-9]{6,14}$') NOT VALID;
ALTER DOMAIN order_confidence ADD CONSTRAINT order_confidence_check
    CHECK (VALUE BETWEEN 0 AND 1) NOT VALID;
ALTER DOMAIN order_rejection_reason ADD CONSTRAINT order_rejection_reason_check
    CHECK (length(VALUE) <= 300) NOT VALID;

CREATE TRIGGER orders_enqueue_next AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND (NEW.status IN ('rejected', 'pos_failed')
               OR (NEW.status IN ('confirmed', 'sent_to_pos')
                   AND coalesce(current_setting('kea.pipeline_inline', true), '') <> 'on')))
    EXECUTE FUNCTION kea_orders_enqueue();
CREATE TRIGGER orders_agent_guard BEFORE UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND kea_acting_agent() IS NOT NULL)
    EXECUTE FUNCTION kea_orders_agent_guard();
CREATE TRIGGER orders_finish_tasks AFTER UPDATE OF status ON orders
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND NEW.status IN ('confirmed', 'rejected', 'cancelled', 'sent_to_pos'))
    EXECUTE FUNCTION kea_orders_finish_tasks();

CREATE POLICY agent_update ON orders FOR UPDATE TO kea_agent
    USING (id IN (SELECT order_id FROM tasks))
    WITH CHECK (status IN ('confirmed', 'rejected'));

CREATE VIEW api.orders WITH (security_invoker = true) AS
    SELECT id, call_sid, store_id, status, customer_name, customer_phone, fulfillment,
           delivery_address, subtotal_cents, tax_cents, delivery_fee_cents, total_cents,
           confidence, ready_at, pos_ref, created_at, updated_at, decided_at, decision_reason,
           sent_to_pos_at, pos_error, push_round, rejection_reason, second_opinion
    FROM orders;
GRANT SELECT ON api.orders TO kea_service, kea_merchant, kea_agent;
GRANT INSERT, UPDATE, DELETE ON api.orders TO kea_service;
GRANT INSERT (id, store_id, status, customer_name, customer_phone, fulfillment, delivery_address,
    subtotal_cents, tax_cents, delivery_fee_cents, total_cents, confidence, ready_at)
    ON api.orders TO kea_merchant;
GRANT UPDATE (status, ready_at) ON api.orders TO kea_merchant;
GRANT UPDATE (status, rejection_reason) ON api.orders TO kea_agent;

NOTIFY pgrst, 'reload schema';
