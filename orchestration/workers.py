"""Workers across processes and machines: the landing ingest (assets/landing.py) mapped over a
Celery worker fleet with dagster-celery and a Redis broker.

One run plans the landing days, hands each day to whichever worker is free (`DynamicOut` + `map`),
and sums up. Workers write Parquet only, one file per landed file, so they never contend for the
DuckDB file: the single-writer rule holds with any number of workers. This is its own code location
(not in workspace.yaml), because dagster-celery comes from requirements-scale.lock:

    redis-server --port 6379 &
    dagster-celery worker start -A dagster_celery.app -y orchestration/celery.yaml &   # on each machine
    dagster job execute -m orchestration.workers -j ingest_on_workers -c orchestration/celery.yaml

tests/test_workers.py does this on one machine with two workers. docs/deploy.md has the Kubernetes
version (celery_k8s_job_executor, or k8s_job_executor with no broker).
"""

import os
import socket
import time
from pathlib import Path

import dagster as dg
from dagster_celery import celery_executor

from assets.landing import day_metadata, files_by_day, landing_parquet, write_day
from orchestration.jobs import landing_parquet_by_day
from orchestration.resources import NewsroomPaths
from orchestration.sensors import landing_days_sensor


@dg.op(out=dg.DynamicOut(tuple))
def plan_landing_days(paths: NewsroomPaths):
    """One output per landing day with files: what a worker takes."""
    for day, rel_paths in files_by_day(paths.raw_path).items():
        yield dg.DynamicOutput((day, rel_paths), mapping_key=day.replace("-", "_"))


@dg.op
def write_landing_day(context: dg.OpExecutionContext, paths: NewsroomPaths, day_files: tuple) -> dict:
    """Decode one day's files to Parquet, on whichever worker took it."""
    if not paths.parquet:
        raise dg.Failure("no Parquet root: set NEWSROOM_PARQUET")
    day, rel_paths = day_files
    started = time.time()
    result = write_day(paths.raw_path, paths.parquet, day, rel_paths)
    worker = {"host": socket.gethostname(), "pid": os.getpid(), "started": started, "finished": time.time()}
    context.add_output_metadata({**day_metadata(result), **{f"worker_{k}": v for k, v in worker.items()}})
    for path, reason in result.rejected.items():
        context.log.warning(f"not written {path}: {reason}")
    return {"day": day, "files": result.files_written, "lines": result.lines, **worker}


@dg.op
def summarise_landing(context: dg.OpExecutionContext, days: list[dict]) -> dict:
    """Totals over every day, and which workers did them."""
    workers = sorted({f"{d['host']}:{d['pid']}" for d in days})
    summary = {
        "days": len(days),
        "files": sum(d["files"] for d in days),
        "lines": sum(d["lines"] for d in days),
        "workers": workers,
    }
    context.log.info(f"landed {summary['files']} files of {summary['days']} days on {len(workers)} workers")
    context.add_output_metadata(summary)
    return summary


#: Read from the environment by each process that runs a step (every worker has its own).
PATHS = NewsroomPaths(
    raw_dir=dg.EnvVar("NEWSROOM_RAW_DIR"),
    report_dir=dg.EnvVar("NEWSROOM_REPORT_DIR"),
    analytics=dg.EnvVar("NEWSROOM_ANALYTICS"),
    parquet=dg.EnvVar("NEWSROOM_PARQUET"),
)


@dg.job(executor_def=celery_executor, resource_defs={"paths": PATHS})
def ingest_on_workers() -> None:
    """The landing folder to Parquet, one step per landing day, on the Celery workers."""
    summarise_landing(plan_landing_days().map(write_landing_day).collect())


#: The scale-out code location: the landing ingest by day (partitions, for backfills that fan out over
#: runs) and on the Celery fleet (one run, days over workers). Kept out of the main location
#: (workspace.yaml) so that "Materialize all" there stays one unpartitioned run.
defs = dg.Definitions(
    assets=[landing_parquet],
    jobs=[ingest_on_workers, landing_parquet_by_day],
    sensors=[landing_days_sensor],
    resources={"paths": PATHS},
)

#: The broker and result backend, for the job's run config and the workers' `-y` option.
CELERY_CONFIG = Path(__file__).with_name("celery.yaml")
