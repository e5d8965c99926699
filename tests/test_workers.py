"""A many-file ingest on a Celery worker fleet (dagster-celery, Redis broker), on one machine: the test
starts redis-server and two single-slot workers, runs orchestration.workers' job, and stops them.
Workers write Parquet only, so the DuckDB single-writer rule holds however many there are."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets.landing import day_key, files_by_day
from assets.raw_store import load_raw_dir
from bench.corpus import generate
from tests.conftest import make_settings

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {seconds} s")


@dataclass(frozen=True)
class Fleet:
    env: dict[str, str]
    config: dict
    raw_dir: Path
    parquet: Path
    home: Path


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is missing: `make test` installs it (make redis)"
    root = tmp_path_factory.mktemp("workers")
    settings = make_settings(root)
    generate(settings.raw_dir, 2_000_000, seed=5)  # about 30 files in 28 dated landing folders
    (settings.raw_dir / "undated_desk.txt").write_text("Harbour strike ends after talks\n", encoding="utf-8")
    (settings.raw_dir / "date=2026-10-03" / "binary.txt").write_bytes(bytes(range(256)) * 8)
    port = _free_port()
    config = {
        "execution": {
            "config": {"broker": f"redis://127.0.0.1:{port}/0", "backend": f"redis://127.0.0.1:{port}/1"}
        }
    }
    (root / "celery.yaml").write_text(yaml.safe_dump(config))
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        **{**settings.to_env(), "NEWSROOM_PARQUET": str(root / "parquet")},
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "DO_NOT_TRACK": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-celery starts `celery`
    }
    processes = [
        subprocess.Popen(
            [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            cwd=root,
            start_new_session=True,
        )
    ]
    try:
        _wait(lambda: _answers(port), 20, "redis-server")
        # create the instance's storage once, before two workers race to create it
        subprocess.run(
            [str(BIN / "dagster"), "instance", "migrate"], env=env, check=True, capture_output=True
        )
        logs = []
        for name in ("worker_a", "worker_b"):
            log = root / f"{name}.log"
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [
                        str(BIN / "dagster-celery"),
                        "worker",
                        "start",
                        "-A",
                        "dagster_celery.app",
                        "-y",
                        str(root / "celery.yaml"),
                        "-n",
                        f"{name}@%h",
                        "--",
                        "--concurrency=1",
                    ],
                    env=env,
                    cwd=root,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a group of its own: `celery` runs as its child
                )
            )

        def ready() -> bool:
            for process, log in zip(processes[1:], logs, strict=True):
                if process.poll() is not None:
                    raise RuntimeError(f"a celery worker exited: {log.read_text()[-3000:]}")
            return all("ready" in log.read_text() for log in logs)

        _wait(ready, 90, "celery workers")
        yield Fleet(env, config, settings.raw_dir, root / "parquet", home)
    finally:
        # whole process groups: terminating dagster-celery alone left its `celery` child running
        for process in reversed(processes):
            _signal_group(process, signal.SIGTERM)
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            _signal_group(process, signal.SIGKILL)  # whatever outlived its group's leader


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _run(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> tuple[dg.DagsterRunStatus, list[dict]]:
    """Run the job through the workers; the metadata each day's step recorded."""
    for key in (
        "DAGSTER_HOME",
        "NEWSROOM_RAW_DIR",
        "NEWSROOM_PARQUET",
        "NEWSROOM_REPORT_DIR",
        "NEWSROOM_ANALYTICS",
    ):
        monkeypatch.setenv(key, fleet.env[key])
    from orchestration.workers import ingest_on_workers

    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(ingest_on_workers),
            instance=instance,
            run_config=fleet.config,
            raise_on_error=False,
        )
        steps, started, finished = [], {}, {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None or not (event.step_key or "").startswith("write_landing_day"):
                continue
            if event.event_type_value == "STEP_OUTPUT":
                metadata = event.event_specific_data.metadata
                steps.append({key: value.value for key, value in metadata.items()} | {"step": event.step_key})
            elif event.event_type_value == "STEP_START":
                started[event.step_key] = entry.timestamp
            elif event.event_type_value == "STEP_SUCCESS":
                finished[event.step_key] = entry.timestamp
        for step in steps:  # the step as its worker ran it, events included, not only its writing
            step["step_started"], step["step_finished"] = started[step["step"]], finished[step["step"]]
        assert ingest_on_workers.executor_def.name == "celery"
        return result.dagster_run.status, steps


def test_a_many_file_ingest_runs_on_two_workers_and_writes_every_line_once(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, steps = _run(fleet, monkeypatch)
    assert status == dg.DagsterRunStatus.SUCCESS
    days = files_by_day(fleet.raw_dir)
    assert {s["day"] for s in steps} == set(days) and len(days) > 20
    # both workers took days, and at some moment both were busy at once (a step from its start event
    # to its success: a day's writing alone takes a fraction of a second, and under load the two
    # workers' writes need not overlap though their steps do)
    assert len({s["worker_pid"] for s in steps}) == 2
    spans = sorted((s["step_started"], s["step_finished"], s["worker_pid"]) for s in steps)
    assert any(a[0] < b[1] and b[0] < a[1] and a[2] != b[2] for a, b in itertools.combinations(spans, 2))
    # the Parquet holds exactly the lines the DuckDB loader reads from the same files
    with duckdb.connect() as con:
        load_raw_dir(con, fleet.raw_dir)
        expected = con.execute(
            "select l.file_id, p.path, l.line_no, l.text from raw.lines l "
            "join raw.file_paths p using (file_id) order by all"
        ).fetchall()
        written = con.execute(
            f"select file_id, path, line_no, text from read_parquet('{fleet.parquet}/landing/*/*.parquet') "
            "order by all"
        ).fetchall()
        rejected = con.execute("select count(*) from raw.files where status = 'rejected'").fetchall()[0][0]
        days_written = {
            r[0] for r in con.execute(f"select distinct day from read_parquet('{fleet.parquet}/landing/*/*.parquet', hive_partitioning = true)").fetchall()
        }  # fmt: skip
    assert written == expected and len(written) > 1000
    assert rejected == 1 and sum(s["files_rejected"] for s in steps) == 1
    assert days_written == set(days) and day_key("undated_desk.txt") in days_written


def test_a_second_run_writes_nothing_new(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted(fleet.parquet.rglob("*.parquet"))
    status, steps = _run(fleet, monkeypatch)
    assert status == dg.DagsterRunStatus.SUCCESS
    assert sum(s["files_written"] for s in steps) == 0
    assert sum(s["files_already_there"] for s in steps) == len(before)
    assert sorted(fleet.parquet.rglob("*.parquet")) == before


def test_a_backfill_by_landing_day_writes_each_day_once(tmp_path: Path) -> None:
    """The sensor adds one partition per landing day; each day's run writes that day's files only,
    and the union over days is exactly what the DuckDB loader reads."""
    from assets.landing import landing_days, landing_parquet
    from orchestration.resources import NewsroomPaths
    from orchestration.sensors import landing_days_sensor

    settings = make_settings(tmp_path)
    generate(settings.raw_dir, 500_000, seed=3)
    paths = NewsroomPaths(
        raw_dir=str(settings.raw_dir),
        report_dir=str(settings.report_dir),
        analytics=str(settings.analytics_path),
        parquet=str(tmp_path / "parquet"),
    )
    instance = dg.DagsterInstance.ephemeral()
    result = landing_days_sensor(dg.build_sensor_context(instance=instance, resources={"paths": paths}))
    days = sorted(files_by_day(settings.raw_dir))
    assert sorted(r.partition_key for r in result.run_requests) == days
    [request] = result.dynamic_partitions_requests
    instance.add_dynamic_partitions(landing_days.name, list(request.partition_keys))
    again = landing_days_sensor(dg.build_sensor_context(instance=instance, resources={"paths": paths}))
    assert isinstance(again, dg.SkipReason)  # no day is requested twice
    for day in days:
        done = dg.materialize(
            [landing_parquet], partition_key=day, resources={"paths": paths}, instance=instance
        )
        assert done.success
        written = {p.parent.name for p in (tmp_path / "parquet" / "landing").rglob("*.parquet")}
        assert f"day={day}" in written
    with duckdb.connect() as con:
        load_raw_dir(con, settings.raw_dir)
        expected = con.execute("select file_id, line_no, text from raw.lines order by all").fetchall()
        written = con.execute(
            f"select file_id, line_no, text from read_parquet('{tmp_path}/parquet/landing/*/*.parquet') order by all"
        ).fetchall()
    assert written == expected


def test_the_landing_ingest_lives_in_the_scale_out_location_only() -> None:
    """The main code location keeps "Materialize all" one unpartitioned run; the scale-out location
    (orchestration/workers.py) has the partitioned ingest, its job and sensor, and the Celery job."""
    from orchestration.definitions import defs as main
    from orchestration.workers import defs as scale_out

    key = dg.AssetKey(["landing", "day_parquet"])
    assert key not in main.resolve_asset_graph().get_all_asset_keys()
    assert key in scale_out.resolve_asset_graph().get_all_asset_keys()
    assert {j.name for j in scale_out.resolve_all_job_defs()} >= {
        "ingest_on_workers",
        "landing_parquet_by_day",
    }
    assert scale_out.resolve_sensor_def("landing_days_sensor")
