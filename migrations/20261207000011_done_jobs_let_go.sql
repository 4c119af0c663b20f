-- What a job costs PostgreSQL after it has run (scripts/bench-calls, pg_stat_statements).
--
-- apalis acknowledges a batch of finished jobs with one statement that finds them through
-- `lock_by`, the name of the worker that took them (the query is apalis's, not ours). A job that
-- was done kept its `lock_by`, and a worker's name outlives its restarts, so every
-- acknowledgement read every job that worker had ever finished and the pruner had not yet deleted
-- (a week of them, `keep_done_jobs`): 1.7 ms per batch after 8,000 orders, and growing with each
-- one. apalis's heartbeat counts a worker's jobs the same way.
--
-- A job that is done now lets go of its worker: `lock_by` names the worker holding a job, or the
-- one whose last attempt failed, and the acknowledgement reads only the jobs in flight. Nothing
-- reads the worker of a finished job (`api.jobs` shows it null); its attempts and result stay.
CREATE FUNCTION kea_job_done_let_go() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.lock_by := NULL;
    RETURN NEW;
END
$$;

CREATE TRIGGER jobs_done_let_go BEFORE UPDATE OF status ON apalis.jobs
    FOR EACH ROW
    WHEN (NEW.status = 'Done' AND NEW.lock_by IS NOT NULL)
    EXECUTE FUNCTION kea_job_done_let_go();

UPDATE apalis.jobs SET lock_by = NULL WHERE status = 'Done' AND lock_by IS NOT NULL;

-- Every job row is written four times (queued, fetched, running, done), and each status change
-- moves it in the fetch index, so each version is entered in every index of the table. Two of
-- apalis's indexes repeat others (`lidx` is `idx_apalis_jobs_lock_by`, `unique_job_id` is the
-- primary key), and the `lock_by` index held an entry for every job without a worker too. The
-- `lock_by` index now covers only the jobs a worker holds: `lock_by = $1` implies it is not null,
-- so apalis's queries still use it.
DROP INDEX IF EXISTS apalis.lidx;
DROP INDEX IF EXISTS apalis.unique_job_id;
DROP INDEX IF EXISTS apalis.idx_apalis_jobs_lock_by;
CREATE INDEX idx_apalis_jobs_lock_by ON apalis.jobs (lock_by) WHERE lock_by IS NOT NULL;
