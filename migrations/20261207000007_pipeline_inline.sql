-- A pipeline job takes an order as far as it can go: `extract_order` decides, pushes a confirmed
-- order to the POS and texts the receipt; `push_order_to_pos` (for an order an agent confirmed)
-- pushes and texts. Their own status changes (kea_store::pipeline::confirm_order and
-- mark_sent_to_pos) set `kea.pipeline_inline` for their transaction, and the trigger then queues
-- no job for the step the job goes on to do itself: one job per order instead of three, each
-- with its queue insert, notification, fetch and acknowledgement. A crash between steps loses
-- nothing: the job was not acknowledged, is taken again, and resumes from the order's status.
-- Changes made any other way (an agent's approval through the data API or the console) queue
-- the next job as before.
CREATE OR REPLACE FUNCTION kea_orders_enqueue() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
    args jsonb := jsonb_build_object('order_id', NEW.id);
    key  text := NEW.id::text;
    push_key text := CASE WHEN NEW.push_round = 0 THEN NEW.id::text
                          ELSE NEW.id::text || ':' || NEW.push_round END;
    inline boolean := coalesce(current_setting('kea.pipeline_inline', true), '') = 'on';
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'pending_verification' THEN
            PERFORM kea_enqueue('extract_order', args, key);
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        CASE NEW.status
            WHEN 'confirmed' THEN
                IF NOT inline THEN
                    PERFORM kea_enqueue('push_order_to_pos', args, push_key);
                END IF;
            WHEN 'sent_to_pos' THEN
                IF NOT inline THEN
                    PERFORM kea_enqueue('send_receipt', args, key);
                END IF;
            WHEN 'rejected', 'pos_failed' THEN
                PERFORM kea_enqueue('notify_order_problem', args, key);
            ELSE NULL;
        END CASE;
    END IF;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION kea_orders_enqueue() FROM PUBLIC;
