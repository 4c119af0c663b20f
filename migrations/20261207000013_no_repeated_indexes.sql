-- Indexes that repeat another index of their table: every row written is entered in both, and
-- no query needs the second (PostgreSQL reads a prefix of a b-tree index as well as an index of
-- that prefix alone).
--
-- An order's lines are found by `order_id` (the data API's embedding, the pipeline, the console)
-- through the unique index on (order_id, line_no), which every line is entered in anyway.
DROP INDEX IF EXISTS order_items_order_id_idx;

-- apalis's worker table has its two indexes twice, under two names; every heartbeat (each job
-- kind's worker, every two seconds) updates the indexed `last_seen`. (Its id is unique twice
-- too, as the primary key and `unique_worker_id`, but apalis's foreign key from jobs to workers
-- is bound to the second.)
DROP INDEX IF EXISTS apalis.lsidx;
DROP INDEX IF EXISTS apalis.wtidx;
