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

from assets.raw_store import iter_raw_files
from orchestration.jobs import newsroom_all
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
