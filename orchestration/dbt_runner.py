"""dbt run inside the Dagster process (dbt's `dbtRunner`), not as one `dbt` process per layer.

A `dbt` process spends 5–7 s before its first model: interpreter start, imports, `dbt --version`
(asked by dagster-dbt), reading the manifest. In-process, the manifest is parsed once per Dagster
process and handed to every invocation, so a layer costs only its SQL. dbt keeps global state, so
invocations are serialised by a lock (they are serialised anyway: one DuckDB writer).

Results come from dbt's own result objects, not from parsing its log output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from orchestration.settings import DEFAULT_DUCKDB_MEMORY

_LOCK = threading.Lock()
_PARSED: dict[str, Any] = {}


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome: a model or seed built, or a test run."""

    unique_id: str
    resource_type: str
    name: str
    status: str  # success | error | skipped | pass | fail | warn
    message: str | None
    failures: int | None
    seconds: float
    attached_node: str | None


@dataclass(frozen=True)
class DbtRun:
    success: bool
    results: list[NodeResult]
    error: str | None

    @classmethod
    def of(cls, success: bool, results: list[NodeResult], otherwise: str) -> DbtRun:
        """A run whose error, when it failed, names its failed nodes (or is `otherwise` when none did)."""
        failed = [
            f"{r.unique_id}: {r.status} {r.message or ''}".strip()
            for r in results
            if r.status in ("error", "fail")
        ]
        return cls(success, results, None if success else "; ".join(failed) or otherwise)


class BatchedLog:
    """dbt's node lines for a run log, passed on together at most every `every` seconds (and the rest
    by `flush`, or on leaving a `with` block). Each line as its own Dagster event cost 7.6 ms: 84
    events, 0.64 s of a 1 GB incremental run; a long build still shows its progress every few
    seconds. Safe to call from dbt's threads."""

    def __init__(self, log: Callable[[str], None], every: float = 2.0) -> None:
        self._log, self._every = log, every
        self._lines: list[str] = []
        self._sent = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            if time.monotonic() - self._sent >= self._every:
                self._send()

    def _send(self) -> None:
        if self._lines:
            self._log("\n".join(self._lines))
            self._lines = []
        self._sent = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            self._send()

    def __enter__(self) -> BatchedLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.flush()


def dbt_args(project: DbtProject, target_path: Path) -> list[str]:
    """In-process dbt is always the DuckDB target, whatever NEWSROOM_DBT_TARGET says (the spark target
    runs in processes of its own: orchestration/spark_target.py)."""
    return [
        "--target",
        "duckdb",
        "--project-dir",
        str(project.project_dir),
        "--profiles-dir",
        str(project.profiles_dir),
        "--target-path",
        str(target_path),
    ]


#: The profile every parse sees. dbt re-parses the whole project (about 7 s, where a partial parse
#: takes about 1 s) when the profile's connection settings differ from the last parse's, and those
#: hold the warehouse path and memory cap, which differ between runs, tests and the bench. A parse
#: connects to nothing; only the catalog dbt-duckdb names after the file's stem matters (run_dbt).
PARSE_PROFILE = {
    "NEWSROOM_WAREHOUSE": str(Path(__file__).resolve().parents[1] / "data" / "warehouse.duckdb"),
    "NEWSROOM_DUCKDB_MEMORY": DEFAULT_DUCKDB_MEMORY,
}


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: What a parse reads: when any of these is newer than the manifest file, the file is stale.
DBT_SOURCES = ("models", "macros", "seeds", "dbt_project.yml", "profiles.yml")


def newest_source_mtime(project_dir: Path) -> float:
    """The newest modification time among the project's DBT_SOURCES."""
    newest = 0.0
    for name in DBT_SOURCES:
        path = Path(project_dir) / name
        paths = [path] if path.is_file() else list(path.rglob("*")) if path.exists() else []
        for item in paths:
            if item.is_file():
                newest = max(newest, item.stat().st_mtime)
    return newest


def manifest_is_current(project: DbtProject) -> bool:
    """Whether the manifest file exists and is at least as new as every dbt source."""
    path = Path(project.manifest_path)
    return path.exists() and path.stat().st_mtime >= newest_source_mtime(Path(project.project_dir))


def _cache_path(project: DbtProject) -> Path:
    return Path(project.manifest_path).with_name("manifest.pickle")


def _stamp(project: DbtProject) -> str:
    """What a cached Manifest object must have been made with: this dbt, this manifest file."""
    from dbt.version import __version__

    stat = Path(project.manifest_path).stat()
    return f"{__version__}|{stat.st_mtime_ns}|{stat.st_size}"


def _manifest_fields(manifest: Any) -> dict[str, Any]:
    """The Manifest's own data, without its lookups (rebuilt when first used). Pickling the object
    itself is not safe: dbt's `Manifest.__reduce_ex__` (1.11) passes its lookups positionally but
    leaves `fixtures` out, so each lands one field off (the source lookup becomes a ref lookup and
    every model fails to compile) whenever they were built before the pickle."""
    return {
        field.name: getattr(manifest, field.name)
        for field in dataclasses.fields(manifest)
        if field.init and not field.name.startswith("_")
    }


def parse(project: DbtProject) -> Any:
    """`dbt parse` in-process: writes the manifest file and returns dbt's Manifest object, which is
    also pickled beside the file for later processes (`load_manifest`)."""
    from dbt.cli.main import dbtRunner

    path = Path(project.manifest_path)
    with _LOCK, _environment(PARSE_PROFILE):
        result = dbtRunner().invoke(["--quiet", "parse", *dbt_args(project, Path(project.target_path))])
    if not result.success or not path.exists():
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    _PARSED.update(stamp=_stamp(project), manifest=result.result)
    write_manifest_cache(project, result.result)
    return result.result


def write_manifest_cache(project: DbtProject, manifest: Any) -> None:
    """Pickle `manifest`, made from the current manifest file, beside it for `load_manifest`."""
    cache = _cache_path(project)
    partial = cache.with_name(f"{cache.name}.{os.getpid()}")
    with contextlib.suppress(OSError):  # a read-only checkout only loses the cache
        partial.write_bytes(pickle.dumps((_stamp(project), _manifest_fields(manifest))))
        partial.replace(cache)  # whole or not at all, for a process reading it meanwhile


def load_manifest(project: DbtProject) -> Any:
    """dbt's Manifest object for `dbtRunner`, once per process: unpickled from beside the manifest
    file when it was made with that file and this dbt (0.04 s), else parsed. A partial parse only to
    get the object cost 1.3 s at every run's first dbt step, although the Definitions' import had
    just made the file current; a Manifest rebuilt from manifest.json is not the same object (its
    generic tests come back as singular tests, which dbt cannot compile)."""
    if not manifest_is_current(project):
        return parse(project)
    stamp = _stamp(project)
    if _PARSED.get("stamp") != stamp:
        from dbt.contracts.graph.manifest import Manifest

        try:
            cached_stamp, fields = pickle.loads(_cache_path(project).read_bytes())
            manifest = Manifest(**fields)
        except Exception:  # missing, truncated, or from classes that changed: parse instead
            cached_stamp = manifest = None
        if cached_stamp != stamp:
            return parse(project)
        _PARSED.update(stamp=stamp, manifest=manifest)
    return _PARSED["manifest"]


def _release_duckdb() -> None:
    """Close dbt's DuckDB connection once dbt is done. dbt-duckdb keeps it open in a process-wide
    environment; DuckDB refuses any later connection to the file with another configuration
    (Dagster's resource, a read-only reader) while it is open."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import cleanup_connections

    cleanup_connections()
    environment = DuckDBConnectionManager._ENV
    if environment is not None and hasattr(environment, "close"):
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def _catalog(manifest: Any) -> str | None:
    return next((node.database for node in manifest.nodes.values() if getattr(node, "database", None)), None)


def run_dbt(
    command: list[str],
    project: DbtProject,
    warehouse: Path,
    target_path: Path,
    on_log: Callable[[str], None] | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY,
) -> DbtRun:
    """`dbt <command>` in-process against `warehouse`, with DuckDB's `memory_limit` (profiles.yml reads
    both from the environment); `on_log` hears the nodes' lines as they finish, a few seconds' worth
    at a time (`BatchedLog`)."""
    from dbt.cli.main import dbtRunner

    batched = BatchedLog(on_log) if on_log is not None else None

    def callback(event: Any) -> None:
        if batched is not None and event.info.name in (
            "LogModelResult",
            "LogSeedResult",
            "LogTestResult",
            "LogSnapshotResult",
        ):
            batched(event.info.msg)

    manifest = load_manifest(project)
    if _catalog(manifest) != Path(warehouse).stem:
        # dbt-duckdb names the catalog after the file: a manifest parsed for another file name would
        # send every model to a catalog that is not attached. dbt parses for this one itself.
        manifest = None
    with _LOCK:
        os.environ["NEWSROOM_WAREHOUSE"] = str(Path(warehouse).resolve())  # profiles.yml reads these
        os.environ["NEWSROOM_DUCKDB_MEMORY"] = memory_limit
        runner = dbtRunner(manifest=manifest, callbacks=[callback])
        # a build would also write a copy of the project's manifest into its target (0.9 MB, 0.2 s
        # a layer); only its run_results.json is worth keeping, written below
        no_json = ["--no-write-json"] if command[0] in ("build", "run") else []
        try:
            outcome = runner.invoke(
                ["--quiet", "--no-use-colors", *no_json, *command, *dbt_args(project, target_path)]
            )
        finally:
            _release_duckdb()
            if batched is not None:
                batched.flush()
    if no_json and hasattr(outcome.result, "write"):
        outcome.result.write(str(Path(project.project_dir) / target_path / "run_results.json"))
    results: list[NodeResult] = []
    for item in getattr(outcome.result, "results", None) or []:
        node = item.node
        results.append(
            NodeResult(
                unique_id=node.unique_id,
                resource_type=str(node.resource_type),
                name=node.name,
                status=str(item.status),
                message=item.message,
                failures=item.failures,
                seconds=float(item.execution_time or 0),
                attached_node=getattr(node, "attached_node", None),
            )
        )
    return DbtRun.of(outcome.success, results, str(outcome.exception))


def warm_up(project: DbtProject, warehouse: Path) -> bool:
    """Pay dbt's first-invocation costs now: the first `dbtRunner.invoke` in a process takes 1.5-2 s
    more than later ones (its CLI's set-up, the adapter's registration with dbt's behaviour flags,
    JSON schemas), measured 1.97 s against 0.13 s. The resident runner's standby calls this before a
    run is handed to it; `dbt ls` reads the manifest and connects to nothing, so the warehouse stays
    free for other writers."""
    with tempfile.TemporaryDirectory(prefix="newsroom-dbt-warm-") as target:
        return run_dbt(["ls", "--resource-type", "seed"], project, warehouse, Path(target)).success
