"""The resident runner (`python -m orchestration.cli serve`): runs handed to a standby that has its
imports done give the same warehouse as runs in their own process, and the runner steps aside for
clients it must not serve."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from orchestration import resident
from orchestration.cli import command_env, warehouse_summary
from orchestration.settings import PROJECT_ROOT, Settings

SAMPLE = PROJECT_ROOT / "data" / "raw"


def _env(root: Path) -> dict[str, str]:
    settings = Settings(SAMPLE, root / "warehouse.duckdb", root / "report", root / "analytics.duckdb")
    return command_env(settings, root / "home")


def _serving(tmp_path: Path) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """`cli serve` on the sample in tmp_path, its log in serve.log, once its standby is ready."""
    return resident.serving(_env(tmp_path), tmp_path / "serve.log")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_code_fingerprint_follows_code_not_build_output(tmp_path: Path) -> None:
    for folder in ("assets", "orchestration", "expectations", "dbt_project/models", "dbt_project/target"):
        (tmp_path / folder).mkdir(parents=True)
    model = tmp_path / "dbt_project" / "models" / "stg.sql"
    model.write_text("select 1")
    (tmp_path / "assets" / "a.py").write_text("A = 1\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    first = resident.code_fingerprint(tmp_path, str(home))
    assert resident.code_fingerprint(tmp_path, str(home)) == first
    # dbt's and Python's build output do not make the code stale
    (tmp_path / "dbt_project" / "target" / "manifest.json").write_text("{}")
    (tmp_path / "assets" / "__pycache__").mkdir()
    (tmp_path / "assets" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert resident.code_fingerprint(tmp_path, str(home)) == first
    # a changed model, a new module, or another instance configuration do
    model.write_text("select 2")
    second = resident.code_fingerprint(tmp_path, str(home))
    (tmp_path / "orchestration" / "new.py").write_text("")
    third = resident.code_fingerprint(tmp_path, str(home))
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert len({first, second, third, resident.code_fingerprint(tmp_path, str(home))}) == 4


def test_socket_is_per_instance_and_settings_resolve_like_the_pipeline(tmp_path: Path) -> None:
    path = resident.socket_path(tmp_path / "a" / ("long" * 40))
    assert len(str(path).encode()) < 108  # a Unix socket's limit
    assert path == resident.socket_path(tmp_path / "a" / "x" / ".." / ("long" * 40))
    assert path != resident.socket_path(tmp_path / "b")
    # relative settings resolve against the project, as Settings.from_env does, whatever the cwd
    env = {"DAGSTER_HOME": str(tmp_path), "NEWSROOM_WAREHOUSE": "data/other.duckdb"}
    key = resident.settings_key(env)
    assert key["NEWSROOM_WAREHOUSE"] == str(PROJECT_ROOT / "data" / "other.duckdb")
    assert key != resident.settings_key({**env, "NEWSROOM_WAREHOUSE": "data/third.duckdb"})
    assert os.environ.get("NEWSROOM_WAREHOUSE") != "data/other.duckdb"  # this process's env is restored


def test_messages_carry_descriptors(tmp_path: Path) -> None:
    ours, theirs = socket.socketpair()
    target = tmp_path / "out.txt"
    with ours, theirs, open(target, "w") as out:
        # longer than the socket's buffer: sent from a thread while this one reads it in chunks
        sender = threading.Thread(
            target=resident.send_message, args=(ours, {"kind": "run", "text": "é" * 100_000}, [out.fileno()])
        )
        sender.start()
        message, fds = resident.receive_message(theirs, max_fds=3)
        sender.join()
        assert message == {"kind": "run", "text": "é" * 100_000} and len(fds) == 1
        os.write(fds[0], b"written through the passed descriptor")
        os.close(fds[0])
        ours.close()
        assert resident.receive_message(theirs) == (None, [])  # the peer closed
    assert target.read_text() == "written through the passed descriptor"


def test_no_runner_or_opted_out_means_run_here(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert resident.request("ping", env).reason == "no resident runner"
    assert resident.request("run", {**env, resident.RESIDENT_ENV: "0"}).exit_code is None
    assert (
        resident.request("run", {k: v for k, v in env.items() if k != "DAGSTER_HOME"}).reason
        == "no DAGSTER_HOME"
    )


def test_runs_on_the_resident_runner_match_runs_in_their_own_process(tmp_path: Path) -> None:
    """Two runs on the runner's standbys around one in its own process, on the sample: the first
    builds the warehouse and prints where it ran, the others find nothing new and duplicate
    nothing; a client with other settings is refused (and so runs in its own process)."""
    with _serving(tmp_path) as server:
        env = _env(tmp_path)
        assert _cli(env, "serve").returncode == 1  # one runner per instance
        first = _cli(env, "run")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "succeeded" in first.stdout and "on the resident runner" in first.stdout
        # the standby was ready only once its warm worker had the analysis' models loaded
        assert "models are loaded in this process' warm worker" in first.stdout + first.stderr
        built = warehouse_summary(str(tmp_path / "warehouse.duckdb"))
        assert built["files_loaded"] == 2 and built["headlines"] > 0 and built["articles"] > 0
        assert (tmp_path / "analytics.duckdb").exists() and (tmp_path / "report" / "index.html").exists()
        resident.wait_ready(env, server)  # the next standby
        cold = _cli({**env, resident.RESIDENT_ENV: "0"}, "run")
        assert cold.returncode == 0 and "on the resident runner" not in cold.stdout
        second = _cli(env, "run")
        assert second.returncode == 0 and "on the resident runner" in second.stdout, (
            second.stdout + second.stderr
        )
        assert warehouse_summary(str(tmp_path / "warehouse.duckdb")) == built
        other = {**env, "NEWSROOM_WAREHOUSE": str(tmp_path / "other.duckdb")}
        assert resident.request("ping", other).reason == "the resident runner serves other settings"
        # every run is in the instance, with the run ids the clients printed
        import dagster as dg

        with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
            runs = instance.get_runs()
        printed = {out.stdout.split("newsroom run ")[1][:8] for out in (first, cold, second)}
        assert {run.run_id[:8] for run in runs} == printed and all(run.is_success for run in runs)
    assert not resident.socket_path(env["DAGSTER_HOME"]).exists()  # removed when it stopped
    text = (tmp_path / "serve.log").read_text()
    assert text.count("run done in") == 2 and "stopped" in text


def test_a_stale_standby_is_replaced_before_it_runs(tmp_path: Path) -> None:
    """When the project's code changes after a standby started, the supervisor starts another
    (with the new imports) before handing it a run."""
    code = {"fingerprint": "before"}
    supervisor = resident.Supervisor(
        _env(tmp_path), out=io.StringIO(), fingerprint=lambda: code["fingerprint"]
    )
    try:
        first = supervisor.ready_standby()
        assert first is not None and first.fingerprint == "before" and first.proc.poll() is None
        assert supervisor.ready_standby() is first  # current: kept
        code["fingerprint"] = "after"
        second = supervisor.ready_standby()
        assert second is not None and second is not first and second.fingerprint == "after"
        assert first.proc.poll() is not None  # the stale one was stopped
        assert "the code changed since the standby started" in supervisor.out.getvalue()
    finally:
        supervisor.close()


def test_the_standby_leaves_no_process_behind(tmp_path: Path) -> None:
    """Stopping the runner stops its standby and the standby's warm analysis worker."""
    import psutil

    env = _env(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "serve"], env=env, stdout=subprocess.DEVNULL
    )
    resident.wait_ready(env, server)
    family = psutil.Process(server.pid).children(recursive=True)
    assert len(family) >= 2  # the standby and its warm worker
    server.send_signal(signal.SIGTERM)
    assert server.wait(60) == 0
    deadline = time.monotonic() + 15
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family):
        assert time.monotonic() < deadline, [p.cmdline() for p in family if p.is_running()]
        time.sleep(0.2)


def test_a_client_that_goes_away_interrupts_its_run(tmp_path: Path) -> None:
    """Ctrl-C in `make run` reaches the run on the standby (the client's socket closes, the
    supervisor sends SIGINT): Dagster records the run as ended, not started forever, the warehouse
    is free again, and the next client's run succeeds."""
    import dagster as dg

    with _serving(tmp_path) as server:
        env = _env(tmp_path)
        client = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "run"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert client.stdout is not None
        for line in client.stdout:  # the standby writes to the client's terminal: the run has begun
            if "raw_files_and_lines" in line:
                break
        client.send_signal(signal.SIGINT)
        client.communicate(timeout=60)
        assert client.returncode != 0
        deadline = time.monotonic() + 120
        while "run done" not in (tmp_path / "serve.log").read_text():
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert "the client went away: interrupting the run" in (tmp_path / "serve.log").read_text()
        with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
            (interrupted,) = instance.get_runs()
            assert interrupted.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
        resident.wait_ready(env, server)
        after = _cli(env, "run")
        assert after.returncode == 0 and "on the resident runner" in after.stdout, after.stdout + after.stderr
