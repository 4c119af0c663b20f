-- Data for the data API's client conformance tests (tests/conformance/data-api/{js,python}).
--
-- Run as a superuser after the migrations and `kea store import tests/fixtures/stores/*.json`
-- (which creates the stores tonys-pizza, la-casita and bean-there and one merchant per store).
-- Two merchants of our own, with fixed ids the tests put in their tokens:
--   merchant A (…0a) owns tonys-pizza and bean-there, merchant B (…0b) owns la-casita.
-- Workers: Ana (…c1) has tasks on orders of both merchants, Ben (…c2) on one order, Cy (…c3)
-- has none. Every id is fixed so the tests (and a person reading a failure) can name rows.
-- Values are chosen to exercise the operators: mixed-case names for like/ilike/match/imatch, null
-- customer names and call_sids for is/isdistinct/nulls ordering, text arrays and json arrays for
-- cs/cd/ov, delivery addresses and notes with words for the full-text operators.

BEGIN;

INSERT INTO merchants (id, name) VALUES
    ('00000000-0000-4000-8000-00000000000a', 'Conformance Merchant A'),
    ('00000000-0000-4000-8000-00000000000b', 'Conformance Merchant B');

UPDATE stores SET merchant_id = '00000000-0000-4000-8000-00000000000a'
    WHERE id IN ('tonys-pizza', 'bean-there');
UPDATE stores SET merchant_id = '00000000-0000-4000-8000-00000000000b'
    WHERE id = 'la-casita';
-- Distinct language lists, for cs/cd/ov on a text[] column.
UPDATE stores SET languages = ARRAY['en-US', 'es-US'] WHERE id = 'la-casita';
UPDATE stores SET languages = ARRAY['en-US', 'fr-CA'] WHERE id = 'bean-there';

INSERT INTO workers (id, name, attributes, activity) VALUES
    ('00000000-0000-4000-8000-0000000000c1', 'Ana Agent',
     '{"skills": ["verify", "spanish"], "languages": ["en-US", "es-US"]}', 'available'),
    ('00000000-0000-4000-8000-0000000000c2', 'Ben Agent',
     '{"skills": ["verify"], "languages": ["en-US"]}', 'busy'),
    ('00000000-0000-4000-8000-0000000000c3', 'Cy Agent',
     '{"skills": [], "languages": ["fr-CA"]}', 'offline');

INSERT INTO calls (call_sid, store_id, from_number, to_number, status, outcome, turns,
                   duration_seconds, started_at, ended_at) VALUES
    ('CA00000000000000000000000000000001', 'tonys-pizza', '+15551230001', '+15550100001',
     'completed', 'order_placed', 9, 184, '2026-11-20 17:00:00+00', '2026-11-20 17:03:04+00'),
    ('CA00000000000000000000000000000002', 'tonys-pizza', '+15551230002', '+15550100001',
     'completed', 'order_placed', 12, 240, '2026-11-20 18:00:00+00', '2026-11-20 18:04:00+00'),
    ('CA00000000000000000000000000000003', 'tonys-pizza', '+15551230003', '+15550100001',
     'completed', 'transferred', 4, 65, '2026-11-21 12:00:00+00', '2026-11-21 12:01:05+00'),
    ('CA00000000000000000000000000000004', 'tonys-pizza', '+15551230004', '+15550100001',
     'in-progress', NULL, 2, NULL, '2026-11-22 19:30:00+00', NULL),
    ('CA00000000000000000000000000000005', 'bean-there', '+15551230005', '+15550100003',
     'completed', 'order_placed', 6, 95, '2026-11-21 08:00:00+00', '2026-11-21 08:01:35+00'),
    ('CA00000000000000000000000000000006', 'bean-there', '+15551230006', '+15550100003',
     'completed', 'abandoned', 1, 12, '2026-11-21 09:00:00+00', '2026-11-21 09:00:12+00'),
    ('CA00000000000000000000000000000007', 'la-casita', '+15551230007', '+15550100002',
     'completed', 'order_placed', 8, 150, '2026-11-20 20:00:00+00', '2026-11-20 20:02:30+00'),
    ('CA00000000000000000000000000000008', 'la-casita', '+15551230008', '+15550100002',
     'completed', 'order_placed', 10, 200, '2026-11-21 21:00:00+00', '2026-11-21 21:03:20+00'),
    ('CA00000000000000000000000000000009', 'la-casita', '+15551230009', '+15550100002',
     'failed', 'failed', 0, 0, '2026-11-22 13:00:00+00', '2026-11-22 13:00:00+00'),
    ('CA00000000000000000000000000000010', 'la-casita', '+15551230010', '+15550100002',
     'completed', 'cancelled', 3, 40, '2026-11-22 14:00:00+00', '2026-11-22 14:00:40+00');

-- A few replay records per call (not every call has some: embedding must give []).
INSERT INTO call_events (call_sid, seq, kind, payload, server_micros, at)
SELECT c.call_sid, s.seq,
       (ARRAY['webhook', 'twiml', 'state', 'status'])[s.seq + 1],
       jsonb_build_object('seq', s.seq, 'call', c.call_sid,
                          'text', (ARRAY['hello', 'say the order', 'state changed', 'completed'])[s.seq + 1]),
       1000 * (s.seq + 1),
       c.started_at + make_interval(secs => s.seq * 5)
FROM calls c
CROSS JOIN generate_series(0, 3) AS s(seq)
WHERE c.call_sid IN ('CA00000000000000000000000000000001', 'CA00000000000000000000000000000002',
                     'CA00000000000000000000000000000003', 'CA00000000000000000000000000000005',
                     'CA00000000000000000000000000000007', 'CA00000000000000000000000000000008')
  AND (s.seq < 3 OR c.call_sid <> 'CA00000000000000000000000000000003');

INSERT INTO orders (id, call_sid, store_id, status, customer_name, customer_phone, fulfillment,
                    delivery_address, subtotal_cents, tax_cents, delivery_fee_cents, total_cents,
                    confidence, created_at) VALUES
    -- merchant A, tonys-pizza
    ('00000000-0000-4000-8000-0000000000d1', 'CA00000000000000000000000000000001', 'tonys-pizza',
     'confirmed', 'Alice Smith', '+15551230001', 'delivery', '12 Main Street, Springfield',
     3098, 271, 300, 3669, 0.95, '2026-11-20 17:03:00+00'),
    ('00000000-0000-4000-8000-0000000000d2', 'CA00000000000000000000000000000002', 'tonys-pizza',
     'sent_to_pos', 'bob jones', '+15551230002', 'pickup', NULL,
     1699, 149, 0, 1848, 0.88, '2026-11-20 18:04:00+00'),
    ('00000000-0000-4000-8000-0000000000d3', NULL, 'tonys-pizza',
     'pending_verification', NULL, NULL, 'pickup', NULL,
     799, 70, 0, 869, 0.41, '2026-11-21 12:30:00+00'),
    ('00000000-0000-4000-8000-0000000000d4', NULL, 'tonys-pizza',
     'pos_failed', 'ALICE WONG', '+15551230011', 'delivery', '7 Elm Road apartment 3, Springfield',
     2598, 227, 300, 3125, NULL, '2026-11-22 11:00:00+00'),
    -- merchant A, bean-there
    ('00000000-0000-4000-8000-0000000000d5', 'CA00000000000000000000000000000005', 'bean-there',
     'confirmed', 'Carol Diaz', '+15551230005', 'pickup', NULL,
     850, 68, 0, 918, 0.99, '2026-11-21 08:01:30+00'),
    ('00000000-0000-4000-8000-0000000000d6', NULL, 'bean-there',
     'cancelled', 'dave', '+15551230012', 'pickup', NULL,
     425, 34, 0, 459, 0.60, '2026-11-22 09:15:00+00'),
    -- merchant B, la-casita
    ('00000000-0000-4000-8000-0000000000d7', 'CA00000000000000000000000000000007', 'la-casita',
     'confirmed', 'Alice Smith', '+15551230007', 'pickup', NULL,
     1400, 119, 0, 1519, 0.93, '2026-11-20 20:02:00+00'),
    ('00000000-0000-4000-8000-0000000000d8', 'CA00000000000000000000000000000008', 'la-casita',
     'confirmed', 'Eve Martinez', '+15551230008', 'delivery', '99 Oak Avenue, Shelbyville',
     2100, 178, 250, 2528, 0.81, '2026-11-21 21:03:00+00'),
    ('00000000-0000-4000-8000-0000000000d9', NULL, 'la-casita',
     'pending_verification', NULL, '+15551230013', 'pickup', NULL,
     350, 30, 0, 380, 0.30, '2026-11-22 13:30:00+00'),
    ('00000000-0000-4000-8000-0000000000da', NULL, 'la-casita',
     'rejected', 'Frank O''Brien', '+15551230014', 'delivery', '1 Quiet Lane, Shelbyville',
     1050, 89, 250, 1389, 0.75, '2026-11-22 15:00:00+00');

INSERT INTO order_items (order_id, line_no, store_id, sku, name, size, quantity, modifiers,
                         unit_price_cents, line_total_cents, notes) VALUES
    ('00000000-0000-4000-8000-0000000000d1', 1, 'tonys-pizza', 'pizza-pepperoni', 'Pepperoni Pizza', 'large', 1, '["thin-crust", "extra-cheese"]', 1899, 1899, 'well done, extra crispy please'),
    ('00000000-0000-4000-8000-0000000000d1', 2, 'tonys-pizza', 'garlic-knots', 'Garlic Knots', '6 piece', 1, '[]', 499, 499, NULL),
    ('00000000-0000-4000-8000-0000000000d1', 3, 'tonys-pizza', 'coke-can', 'Coke (can)', NULL, 2, '[]', 199, 398, NULL),
    ('00000000-0000-4000-8000-0000000000d1', 4, 'tonys-pizza', 'wings', 'Wings', '6 piece', 1, '["sauce-hot"]', 899, 899, 'sauce on the side'),
    ('00000000-0000-4000-8000-0000000000d2', 1, 'tonys-pizza', 'pizza-cheese', 'Cheese Pizza', 'large', 1, '["mushrooms", "onions"]', 1699, 1699, NULL),
    ('00000000-0000-4000-8000-0000000000d3', 1, 'tonys-pizza', 'caesar-salad', 'Caesar Salad', NULL, 1, '[]', 799, 799, 'no croutons'),
    ('00000000-0000-4000-8000-0000000000d4', 1, 'tonys-pizza', 'pizza-cheese', 'Cheese Pizza', 'medium', 1, '["extra-cheese"]', 1399, 1399, NULL),
    ('00000000-0000-4000-8000-0000000000d4', 2, 'tonys-pizza', 'pizza-margherita', 'Margherita Pizza', 'small', 1, '["thin-crust"]', 1249, 1249, 'cut in squares'),
    ('00000000-0000-4000-8000-0000000000d5', 1, 'bean-there', 'latte', 'Latte', 'medium', 1, '["milk-oat", "extra-shot"]', 475, 475, 'extra hot'),
    ('00000000-0000-4000-8000-0000000000d5', 2, 'bean-there', 'croissant', 'Croissant', NULL, 1, '[]', 375, 375, NULL),
    ('00000000-0000-4000-8000-0000000000d6', 1, 'bean-there', 'cappuccino', 'Cappuccino', 'small', 1, '["milk-oat"]', 425, 425, NULL),
    ('00000000-0000-4000-8000-0000000000d7', 1, 'la-casita', 'taco-al-pastor', 'Taco al Pastor', NULL, 4, '["no-onion"]', 350, 1400, 'extra crispy tortillas'),
    ('00000000-0000-4000-8000-0000000000d8', 1, 'la-casita', 'burrito', 'Burrito', NULL, 2, '["add-guac", "no-beans"]', 1050, 2100, NULL),
    ('00000000-0000-4000-8000-0000000000d9', 1, 'la-casita', 'taco-carnitas', 'Taco de Carnitas', NULL, 1, '[]', 350, 350, NULL),
    ('00000000-0000-4000-8000-0000000000da', 1, 'la-casita', 'burrito', 'Burrito', NULL, 1, '["add-cheese"]', 1050, 1050, 'please call when outside');

INSERT INTO tasks (id, order_id, call_sid, store_id, kind, status, worker_id, priority, reason,
                   created_at) VALUES
    -- Ana: an order of each merchant, and a transferred call with no order.
    ('00000000-0000-4000-8000-0000000000e1', '00000000-0000-4000-8000-0000000000d3', NULL, 'tonys-pizza',
     'verify_order', 'assigned', '00000000-0000-4000-8000-0000000000c1', 5, 'low confidence', '2026-11-21 12:31:00+00'),
    ('00000000-0000-4000-8000-0000000000e2', '00000000-0000-4000-8000-0000000000d9', NULL, 'la-casita',
     'verify_order', 'reserved', '00000000-0000-4000-8000-0000000000c1', 3, 'low confidence', '2026-11-22 13:31:00+00'),
    ('00000000-0000-4000-8000-0000000000e3', NULL, 'CA00000000000000000000000000000003', 'tonys-pizza',
     'transfer', 'completed', '00000000-0000-4000-8000-0000000000c1', 1, 'caller asked for a person', '2026-11-21 12:01:00+00'),
    -- Ben: the order whose POS push failed.
    ('00000000-0000-4000-8000-0000000000e4', '00000000-0000-4000-8000-0000000000d4', NULL, 'tonys-pizza',
     'callback', 'assigned', '00000000-0000-4000-8000-0000000000c2', 8, 'POS refused the order: 422', '2026-11-22 11:01:00+00'),
    -- Nobody yet.
    ('00000000-0000-4000-8000-0000000000e5', '00000000-0000-4000-8000-0000000000da', NULL, 'la-casita',
     'callback', 'pending', NULL, 0, 'rejected by the store', '2026-11-22 15:01:00+00');

-- Menu rows the write tests may change: an item of each merchant's that no order refers to.
INSERT INTO menu_items (store_id, sku, name, category, price_cents, available, position) VALUES
    ('tonys-pizza', 'conformance-special', 'Conformance Special', 'Test', 1000, true, 900),
    ('la-casita', 'conformance-special', 'Conformance Especial', 'Test', 1000, true, 900);

COMMIT;

ANALYZE;
