"""Sensor: start a run when new or changed files land in the raw dir.

A file is only acted on once its size and mtime are the same in two evaluations in a row, so a
file still being written does not start a run; the run key is derived from the files' fingerprints,
so one file never starts two runs.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from assets.landing import files_by_day, landing_days
from assets.raw_store import iter_raw_files
from orchestration.jobs import landing_parquet_by_day, newsroom_all
from orchestration.resources import NewsroomPaths

Fingerprint = tuple[int, int]  # size in bytes, mtime in ns


def scan(raw_dir: Path) -> dict[str, Fingerprint]:
    if not raw_dir.is_dir():
        return {}
    found = {}
    for path in iter_raw_files(raw_dir):
        stat = path.stat()
        found[path.relative_to(raw_dir).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


@dataclass(frozen=True)
class Plan:
    ready: dict[str, Fingerprint]
    cursor: str


def plan(cursor: str | None, current: dict[str, Fingerprint]) -> Plan:
    """Pure decision: which files are ready (new or changed, and stable since the last look)."""
    state = json.loads(cursor) if cursor else {}
    seen = {k: tuple(v) for k, v in state.get("seen", {}).items()}
    pending = {k: tuple(v) for k, v in state.get("pending", {}).items()}
    ready: dict[str, Fingerprint] = {}
    new_pending: dict[str, Fingerprint] = {}
    for path, fingerprint in current.items():
        if seen.get(path) == fingerprint:
            continue
        if pending.get(path) == fingerprint:
            ready[path] = fingerprint
        else:
            new_pending[path] = fingerprint
    new_seen = {p: f for p, f in seen.items() if p in current} | ready
    new_cursor = json.dumps({"seen": new_seen, "pending": new_pending}, sort_keys=True)
    return Plan(ready=ready, cursor=new_cursor)


def run_key(ready: dict[str, Fingerprint]) -> str:
    payload = json.dumps(sorted((p, list(f)) for p, f in ready.items()))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dg.sensor(
    name="raw_files_sensor",
    job=newsroom_all,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the whole graph when files in the raw dir are new or changed and have stopped growing.",
)
def raw_files_sensor(context: dg.SensorEvaluationContext, paths: NewsroomPaths):
    decision = plan(context.cursor, scan(paths.raw_path))
    context.update_cursor(decision.cursor)
    if not decision.ready:
        return dg.SkipReason("no new or changed file has been stable for two evaluations")
    return dg.RunRequest(
        run_key=run_key(decision.ready),
        tags={"newsroom/new_files": str(len(decision.ready))},
    )


@dg.sensor(
    name="landing_days_sensor",
    job=landing_parquet_by_day,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Adds a landing_days partition for each new landing day and requests its run "
    "(only when a Parquet root is configured).",
)
def landing_days_sensor(context: dg.SensorEvaluationContext, paths: NewsroomPaths):
    if not paths.parquet:
        return dg.SkipReason("no Parquet root configured (NEWSROOM_PARQUET)")
    known = set(context.instance.get_dynamic_partitions(landing_days.name))
    new_days = [day for day in files_by_day(paths.raw_path) if day not in known]
    if not new_days:
        return dg.SkipReason("no new landing day")
    return dg.SensorResult(
        run_requests=[dg.RunRequest(partition_key=day, run_key=f"landing-{day}") for day in new_days],
        dynamic_partitions_requests=[landing_days.build_add_request(new_days)],
    )
