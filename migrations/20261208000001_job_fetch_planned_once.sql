-- What apalis's fetch and acknowledgement cost PostgreSQL while calls are coming in
-- (scripts/bench-calls with BENCH_STATEMENTS=pipeline, auto_explain, pgbench).

-- apalis.get_jobs in PL/pgSQL. apalis's own is a LANGUAGE sql function whose body is an UPDATE,
-- which PostgreSQL never inlines: it parsed, analysed and planned the statement again at every
-- fetch, about half of what a fetch cost (pgbench, one job queued and fetched per transaction,
-- against 20,000 finished jobs: 0.32 ms of PostgreSQL's CPU per fetch, 0.16 ms in PL/pgSQL,
-- which keeps the plan for the session). Same signature, same rows taken, same result.
--
-- A kept plan is only as good as the table it was made for: one made while apalis.jobs was
-- nearly empty would read the whole table once it has grown. `kea worker` runs apalis's
-- statements on connections that plan without sequential scans, hash or merge joins
-- (`kea_store::job_queue_pool`), so this one reads the fetch index and the primary key.
CREATE OR REPLACE FUNCTION apalis.get_jobs(worker_id text, v_job_type text, v_job_count integer DEFAULT 5)
RETURNS SETOF apalis.jobs
LANGUAGE plpgsql
VOLATILE
AS $$
BEGIN
    RETURN QUERY
    WITH jobs AS (
        SELECT id
        FROM apalis.jobs
        WHERE (status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))
          AND run_at < now()
          AND job_type = v_job_type
        ORDER BY priority DESC, run_at ASC
        LIMIT v_job_count
        FOR UPDATE SKIP LOCKED
    )
    UPDATE apalis.jobs j
    SET status = 'Queued', lock_by = worker_id, lock_at = now()
    FROM jobs
    WHERE j.id = jobs.id
    RETURNING j.*;
END
$$;

-- The `lock_by` index holds only the jobs a worker has taken and not finished.
--
-- apalis acknowledges finished jobs with one statement that finds them by their ids and their
-- worker (`id` from a JSON list, `lock_by = $2`). Every version of a job row that named a worker
-- (taken, then running) stayed in the `lock_by` index until the table was vacuumed, and
-- PostgreSQL, estimating a handful of rows, read that index with a bitmap scan, which never
-- marks an entry dead: under load an acknowledgement of one job went through 4,531 index
-- entries and 115 table pages (auto_explain) and was the pipeline's most expensive statement,
-- 0.95 ms a call on average. Limited to the jobs in flight, the index cannot answer that
-- statement, which reads the jobs by their primary key instead. It still serves apalis's
-- re-queueing of a dead worker's jobs, which looks for the jobs in flight of a worker.
--
-- The predicate names `lock_by` as well as the statuses so that no other statement of apalis's
-- can use it for a part of its condition: with the statuses alone, the statement that marks
-- fetched jobs running (`status = 'Pending' OR status = 'Queued' OR …`, and their ids) read this
-- index and the fetch index whole, OR-ed as bitmaps, instead of looking its jobs up by id.
--
-- Building it reads the table once, while new jobs wait: 110 ms on a table of 1,000,000 finished
-- jobs (343 MB), as a busy week keeps them.
DROP INDEX IF EXISTS apalis.idx_apalis_jobs_lock_by;
CREATE INDEX idx_apalis_jobs_lock_by ON apalis.jobs (lock_by)
    WHERE lock_by IS NOT NULL AND (status = 'Queued' OR status = 'Running');
