"""The resident runner: `python -m orchestration.cli serve` keeps a run process ready, imports done.

A run in a new process spends about 9 s before and around its work on one-time set-up: Python and
the Definitions' imports (dagster, dbt, the analysis' libraries, about 3 s), Great Expectations'
import at the first gate (2.6-2.9 s), dbt's CLI, the Dagster instance, and the analysis' warm worker
loading lingua's models on the second core (about 7 s of CPU that the run's DuckDB steps then lack).
At 1 GB that set-up is a quarter of an incremental run (docs/benchmarks_notes.md). The resident
runner pays it before the next file lands:

- the *supervisor* (`serve`, this module: standard library only) listens on a Unix socket named
  after `DAGSTER_HOME` and keeps one *standby*;
- the *standby* is a fresh process (`python -m orchestration.resident standby`, never a fork: polars,
  pyarrow and the analysis' libraries start native threads at import, and forking a process with
  threads can deadlock the child) that imports everything, opens the Dagster instance, starts the
  analysis' warm worker, says it is ready, and waits;
- `python -m orchestration.cli run` (so `make run`) asks the supervisor first. The supervisor hands
  the client's stdin, stdout and stderr (SCM_RIGHTS) and working directory to the standby, which runs
  the job exactly as the CLI would (`orchestration.cli.run`), writes to the client's terminal, and
  exits. The supervisor returns the exit code to the client and starts the next standby.

Each run still gets a process of its own, so nothing carries over from one run to the next but what
the imports hold. The supervisor replaces a standby whose code is stale (a file of the project
changed since it started) before handing it a run, and refuses a client whose settings
(`NEWSROOM_*`) differ from its own: that client runs in its own process, as with no supervisor.
`NEWSROOM_RESIDENT=0` makes the CLI run in its own process regardless. The standby never opens the
warehouse before a run, so other writers are not locked out while it waits.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.settings import PROJECT_ROOT, Settings

#: Set to 0 to make `cli run` run in its own process even when a resident runner is listening.
RESIDENT_ENV = "NEWSROOM_RESIDENT"
#: Where the code a run imports lives; a change under these replaces the standby.
CODE_DIRS = ("assets", "orchestration", "expectations", "dbt_project")
_SKIPPED_DIRS = {"target", "logs", "dbt_packages", "__pycache__", ".pytest_cache"}
_MAX_MESSAGE = 1 << 20
#: Why `request` left a run to its caller when that is the normal case, not worth a word to the user.
NO_RUNNER, NO_HOME, OPTED_OUT = "no resident runner", "no DAGSTER_HOME", f"{RESIDENT_ENV}=0"


def socket_path(dagster_home: str | os.PathLike[str]) -> Path:
    """The supervisor's socket for one Dagster instance. Unix socket paths are limited to 107
    bytes, so it lives in the temporary directory under a hash of the instance's directory."""
    digest = hashlib.sha256(str(Path(dagster_home).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"newsroom-runner-{digest}.sock"


def settings_key(env: dict[str, str]) -> dict[str, str]:
    """What a run's settings depend on: the resolved `Settings` and the Dagster instance. A standby
    serves only clients with the same key, because the Definitions bind their resources at import."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        key = Settings.from_env().to_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    key["DAGSTER_HOME"] = str(Path(env.get("DAGSTER_HOME", "")).resolve())
    return key


def code_fingerprint(root: Path = PROJECT_ROOT, dagster_home: str | None = None) -> str:
    """A hash of the path, size and modification time of every file a run imports or reads as code
    (the packages, the suites, the dbt project without its build output, the instance's
    dagster.yaml). Walking them takes a few milliseconds."""
    entries: list[str] = []
    for top in CODE_DIRS:
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(".pyc"):
                    continue
                path = os.path.join(dirpath, name)
                with contextlib.suppress(OSError):
                    stat = os.stat(path)
                    entries.append(f"{os.path.relpath(path, root)}\0{stat.st_size}\0{stat.st_mtime_ns}")
    if dagster_home:
        with contextlib.suppress(OSError):
            entries.append(Path(dagster_home, "dagster.yaml").read_text(encoding="utf-8"))
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:16]


# --- messages: one JSON object per line, file descriptors alongside --------------------------------


def send_message(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode() + b"\n"
    if fds:  # the descriptors ride on the first byte; sendall then sends the rest, however long
        socket.send_fds(sock, [data[:1]], fds)
        data = data[1:]
    sock.sendall(data)


def receive_message(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the descriptors sent with it; (None, []) when the peer closed."""
    chunks: list[bytes] = []
    fds: list[int] = []
    while True:
        if max_fds and not fds:
            data, got, _flags, _addr = socket.recv_fds(sock, 65536, max_fds)
            fds.extend(got)
        else:
            data = sock.recv(65536)
        if not data:
            return None, fds
        chunks.append(data)
        if data.endswith(b"\n"):
            return json.loads(b"".join(chunks)), fds
        if sum(map(len, chunks)) > _MAX_MESSAGE:
            raise ValueError("message too long")


# --- the client ------------------------------------------------------------------------------------


@dataclass
class Answer:
    """The supervisor's answer: `exit_code` when it ran the job, else why not (`reason`)."""

    exit_code: int | None
    reason: str = ""
    ready: bool = False  # the answer to a ping: a standby is ready


def request(kind: str = "run", env: dict[str, str] | None = None, timeout: float | None = None) -> Answer:
    """Ask the resident runner of `env`'s DAGSTER_HOME to run the job (`kind="run"`, with this
    process's stdin, stdout and stderr and working directory) or to say when a standby is ready
    (`"ping"`). An Answer without an exit code means: run it yourself."""
    env = dict(os.environ if env is None else env)
    if env.get(RESIDENT_ENV, "1") == "0":
        return Answer(None, OPTED_OUT)
    if not env.get("DAGSTER_HOME"):
        return Answer(None, NO_HOME)
    path = socket_path(env["DAGSTER_HOME"])
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(5)
        sock.connect(str(path))
    except OSError:
        sock.close()
        return Answer(None, NO_RUNNER)
    with sock:
        sock.settimeout(timeout)
        message = {"kind": kind, "settings": settings_key(env), "cwd": os.getcwd()}
        if kind == "run":
            sys.stdout.flush()
            sys.stderr.flush()
            send_message(sock, message, [0, 1, 2])
        else:
            send_message(sock, message)
        started = False
        while True:  # Ctrl-C here closes the socket: the supervisor interrupts the run
            answer, _ = receive_message(sock)
            if answer is None:
                if started:  # the run began there: running it again here would run it twice
                    print(
                        "the resident runner stopped during the run (its outcome is in the Dagster UI)",
                        file=sys.stderr,
                    )
                    return Answer(1, "the resident runner stopped during the run")
                return Answer(None, "the resident runner closed the connection")
            if not answer.get("started"):
                return Answer(answer.get("exit_code"), answer.get("reason", ""), bool(answer.get("ready")))
            started = True


def wait_ready(env: dict[str, str], supervisor: subprocess.Popen | None = None, timeout: float = 300) -> None:
    """Block until the resident runner of `env` has a standby ready (a run started after a run
    ends waits for the next standby, about 10 s). `supervisor`: its process, to fail at once if it
    exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor is not None and supervisor.poll() is not None:
            raise RuntimeError(f"the resident runner exited with {supervisor.returncode}")
        answer = request("ping", env, timeout=timeout)
        if answer.ready:
            return
        if answer.reason != NO_RUNNER:  # not yet listening
            raise RuntimeError(f"the resident runner cannot serve: {answer.reason}")
        time.sleep(0.2)
    raise TimeoutError("the resident runner had no standby ready in time")


@contextlib.contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`python -m orchestration.cli serve` with `env` (its output in log_path), once its first standby
    is ready; stopped with SIGTERM on exit. For the bench and the tests."""
    with open(log_path, "a", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(env, proc)
            yield proc
        finally:
            proc.terminate()
            proc.wait(60)


# --- the supervisor --------------------------------------------------------------------------------


class Standby:
    """One standby process and the supervisor's end of its socket pair."""

    def __init__(self, fingerprint: str, env: dict[str, str]) -> None:
        """Start a standby with `env`: the supervisor's settings, whatever this process's own are."""
        ours, theirs = socket.socketpair()
        self.sock = ours
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.resident", "standby", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            cwd=PROJECT_ROOT,
            start_new_session=True,  # Ctrl-C in the supervisor's terminal stops the supervisor, which stops it
        )
        theirs.close()
        self.fingerprint = fingerprint  # of the code when it started, before its imports
        self.ready = False
        self.started = time.perf_counter()

    def wait_ready(self) -> bool:
        """Block until the standby has set up (True), or it died (False)."""
        if not self.ready:
            message, _ = receive_message(self.sock)
            if message is None or "ready" not in message:
                self.stop()
                return False
            self.ready = True
        return True

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()


class Supervisor:
    """Accepts clients one at a time (the warehouse has one writer anyway) and hands each run to the
    standby. Clients that arrive during a run wait in the socket's backlog."""

    def __init__(
        self, env: dict[str, str], out: Any = sys.stdout, fingerprint: Callable[[], str] | None = None
    ) -> None:
        self.env, self.out = env, out
        self.key = settings_key(env)
        #: the code's fingerprint now (`code_fingerprint` of the project; tests pass their own)
        self.fingerprint = fingerprint or (lambda: code_fingerprint(PROJECT_ROOT, env.get("DAGSTER_HOME")))
        self.standby: Standby | None = None
        self.running: Standby | None = None
        self.finishing: Standby | None = None

    def log(self, text: str) -> None:
        print(f"[resident {time.strftime('%H:%M:%S')}] {text}", file=self.out, flush=True)

    def ready_standby(self) -> Standby | None:
        """A standby whose code is current, started anew if there is none or it is stale."""
        current = self.fingerprint()
        for _attempt in range(2):
            if self.standby is None:
                self.standby = Standby(current, self.env)
            if not self.standby.wait_ready():
                self.log("the standby died while setting up; starting another")
                self.standby = None
                continue
            if self.standby.fingerprint == current:
                return self.standby
            self.log("the code changed since the standby started: replacing it")
            self.standby.stop()
            self.standby = None
        return None

    def serve(self, listener: socket.socket) -> None:
        if self.ready_standby():
            self.log(f"standby ready in {time.perf_counter() - self.standby.started:.1f} s")
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    self.handle(conn)
                except (OSError, ValueError) as exc:
                    self.log(f"client dropped: {exc}")
            if self.finishing is not None:  # let the last run's process end before the next starts
                self.finishing.proc.wait()
                self.finishing.sock.close()
                self.finishing = None
            if self.standby is None:
                self.standby = Standby(self.fingerprint(), self.env)

    def handle(self, conn: socket.socket) -> None:
        message, fds = receive_message(conn, max_fds=3)
        try:
            if message is None:
                return
            if message.get("settings") != self.key:
                send_message(conn, {"reason": "the resident runner serves other settings"})
                return
            standby = self.ready_standby()
            if standby is None:
                send_message(conn, {"reason": "the resident runner could not start a standby"})
                return
            if message.get("kind") != "run":
                send_message(conn, {"ready": True})
                return
            if len(fds) != 3:
                send_message(conn, {"reason": "a run needs the client's stdin, stdout and stderr"})
                return
            self.standby = None  # used once
            send_message(conn, {"started": True})
            exit_code = self.run(conn, standby, message["cwd"], fds)
            send_message(conn, {"exit_code": exit_code})
        finally:
            for fd in fds:
                os.close(fd)

    def run(self, conn: socket.socket, standby: Standby, cwd: str, fds: list[int]) -> int:
        started = time.perf_counter()
        self.running = standby
        send_message(standby.sock, {"cwd": cwd}, fds)
        exit_code: int | None = None
        with selectors.DefaultSelector() as selector:
            selector.register(standby.sock, selectors.EVENT_READ, "standby")
            selector.register(conn, selectors.EVENT_READ, "client")
            while exit_code is None:
                for key, _ in selector.select():
                    if key.data == "standby":
                        message, _ = receive_message(standby.sock)
                        exit_code = int(message["exit_code"]) if message else -1
                        break
                    if not conn.recv(1, socket.MSG_PEEK):  # the client went (Ctrl-C): interrupt the run
                        self.log("the client went away: interrupting the run")
                        selector.unregister(conn)
                        with contextlib.suppress(ProcessLookupError):
                            standby.proc.send_signal(signal.SIGINT)
        if exit_code == -1:  # it died without saying how the run went
            returncode = standby.proc.wait()
            exit_code = returncode if returncode > 0 else 128 - returncode
        self.log(f"run done in {time.perf_counter() - started:.1f} s, exit code {exit_code}")
        self.running, self.finishing = None, standby  # the client gets its answer before the standby exits
        return exit_code

    def close(self) -> None:
        """Stop the standby; interrupt a run in progress (SIGINT, so Dagster records how it ended)."""
        if self.running is not None:
            self.log("stopping: interrupting the run in progress")
            with contextlib.suppress(ProcessLookupError):
                self.running.proc.send_signal(signal.SIGINT)
            try:
                self.running.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.running.proc.kill()
            self.running = None
        if self.standby is not None:
            self.standby.stop()
            self.standby = None


def serve(env: dict[str, str] | None = None) -> int:
    """The supervisor's main loop, until SIGINT or SIGTERM."""
    env = dict(os.environ if env is None else env)
    if not env.get("DAGSTER_HOME"):
        print(
            "the resident runner needs DAGSTER_HOME (the instance its runs are recorded in)", file=sys.stderr
        )
        return 2
    path = socket_path(env["DAGSTER_HOME"])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(str(path)) == 0:
            print(f"a resident runner already listens on {path}", file=sys.stderr)
            return 1
    path.unlink(missing_ok=True)  # left by a supervisor that was killed
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(16)
    supervisor = Supervisor(env)
    supervisor.log(f"listening on {path} for DAGSTER_HOME={env['DAGSTER_HOME']}")

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        supervisor.serve(listener)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        supervisor.close()
        listener.close()
        path.unlink(missing_ok=True)
        supervisor.log("stopped")
    return 0


# --- the standby -----------------------------------------------------------------------------------


def prepare() -> dict[str, Any]:
    """Everything a run sets up before its work, done ahead: the imports (the Definitions, dbt's CLI
    and manifest, Great Expectations), dbt's first invocation (`dbt ls`), the Dagster instance, and
    the analysis' warm worker with its models loaded. The worker starts first, so that its models load
    on the other core while this process imports; the standby is ready once they are loaded, or a run
    given to it at once would share a core with the loading (7 s of CPU). Great Expectations has
    nothing to warm beyond its import: a first validation took no longer than the next (0.69 s
    against 0.66-0.69 s for nine expectations)."""
    from assets.file_analysis import warm_up

    models = warm_up()
    from orchestration import gx_suites

    gx_suites.defer_unused_ge_imports()
    gx_suites.register_duckdb_dialect()  # imports great_expectations
    import dbt.cli.main  # noqa: F401

    from orchestration.cli import _instance
    from orchestration.dbt_runner import load_manifest
    from orchestration.dbt_runner import warm_up as dbt_warm_up
    from orchestration.definitions import defs
    from orchestration.project import dbt_project

    settings = Settings.from_env()
    if settings.dbt_target == "duckdb":  # the spark target runs dbt in processes of its own
        dbt_warm_up(dbt_project(), settings.warehouse)
    else:
        load_manifest(dbt_project())
    job = defs.resolve_job_def("newsroom_all")
    instance = _instance()
    if models is not None:
        models.exception()  # waits; a worker that failed is the run's analysis' to notice (it carries on)
    return {"instance": instance, "job": job, "where": "on the resident runner"}


def standby(fd: int) -> None:
    """Set up, say so, wait for a run, run it with the client's descriptors, report, exit."""
    sock = socket.socket(fileno=fd)
    prepared = prepare()
    send_message(sock, {"ready": True})
    message, fds = receive_message(sock, max_fds=3)
    if message is None:  # the supervisor stopped
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    for target, fd_in in enumerate(fds):
        os.dup2(fd_in, target)
        os.close(fd_in)
    os.chdir(message["cwd"])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from orchestration.cli import exit_without_teardown, run

    try:
        exit_code = run(**prepared)
    except KeyboardInterrupt:  # the supervisor's SIGINT: the client went away
        exit_code = 130
    except Exception:  # reported to the client like a failed run
        import traceback

        traceback.print_exc()
        exit_code = 1
    with contextlib.suppress(OSError):
        send_message(sock, {"exit_code": exit_code})
    exit_without_teardown(exit_code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.resident")
    parser.add_argument("command", choices=["standby"])
    parser.add_argument("fd", type=int)
    args = parser.parse_args(argv)
    standby(args.fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
