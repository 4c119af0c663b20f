-- The entity model's second opinion on an order (kea-ner, run by the extract_order job): the
-- entities it found in each caller turn, the order they imply, and where that order differs
-- from the dialog's. decide_order sends a disagreement to an agent, and the console shows it.
ALTER TABLE orders ADD COLUMN second_opinion jsonb;

CREATE OR REPLACE VIEW api.orders WITH (security_invoker = true) AS
    SELECT id, call_sid, store_id, status, customer_name, customer_phone, fulfillment,
           delivery_address, subtotal_cents, tax_cents, delivery_fee_cents, total_cents,
           confidence, ready_at, pos_ref, created_at, updated_at, decided_at, decision_reason,
           sent_to_pos_at, pos_error, push_round, rejection_reason, second_opinion
    FROM orders;
