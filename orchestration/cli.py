"""`python -m orchestration.cli run`: materialize every asset through Dagster and print a summary.

Used by `make run`. The run is recorded in the instance at $DAGSTER_HOME, so it shows in the UI.
When a resident runner listens for that instance (`python -m orchestration.cli serve`, `make serve`:
orchestration/resident.py), the run goes to its standby, which has its imports done; otherwise it
runs in this process. This module imports Dagster and DuckDB only inside its functions, so a run
handed to the resident runner costs this process no more than Python's start.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from orchestration.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    import dagster as dg


def _instance() -> dg.DagsterInstance:
    import dagster as dg

    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def _rel(path: os.PathLike[str] | str) -> str:
    try:
        return os.path.relpath(path, PROJECT_ROOT) if str(path).startswith(str(PROJECT_ROOT)) else str(path)
    except ValueError:
        return str(path)


def warehouse_summary(database: str) -> dict[str, int]:
    """Counts an operator wants after a run; missing tables count as 0."""
    queries = {
        "files_loaded": "select count(*) from raw.files where status = 'loaded'",
        "files_empty": "select count(*) from raw.files where status = 'empty'",
        "files_rejected": "select count(*) from raw.files where status = 'rejected'",
        "lines": "select count(*) from raw.lines",
        "headlines": "select count(*) from marts.headlines",
        "articles": "select count(*) from marts.articles",
    }
    import duckdb

    counts: dict[str, int] = {}
    with duckdb.connect(database, read_only=True) as con:
        for name, sql in queries.items():
            try:
                counts[name] = con.execute(sql).fetchall()[0][0]
            except duckdb.CatalogException:
                counts[name] = 0
    return counts


def command_env(settings: Settings, dagster_home: Path) -> dict[str, str]:
    """Environment for running `make`/CLI commands on `settings` with their own Dagster instance
    (made at dagster_home with the project's dagster.yaml: telemetry off, writer pool)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = PROJECT_ROOT / "orchestration" / "instance" / "dagster.yaml"
    (dagster_home / "dagster.yaml").write_text(config.read_text(encoding="utf-8"), encoding="utf-8")
    return {
        **os.environ,
        **settings.to_env(),
        "DAGSTER_HOME": str(dagster_home),
        "PYTHONPATH": str(PROJECT_ROOT),
        "DO_NOT_TRACK": "1",
    }


def run(instance: dg.DagsterInstance | None = None, job: Any = None, where: str = "") -> int:
    """Execute the whole job in this process and print a summary (`instance` and `job` when a
    standby of the resident runner prepared them; `where` says so in the summary)."""
    settings = Settings.from_env()
    if job is None:
        from orchestration.definitions import defs

        job = defs.resolve_job_def("newsroom_all")
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance or _instance(),
        raise_on_error=False,
        # progress and warnings on the console; every event is still in the run's event log
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    elapsed = time.perf_counter() - started
    checks = result.get_asset_check_evaluations()
    passed = sum(1 for c in checks if c.passed)
    failed = [c for c in checks if not c.passed]
    counts = warehouse_summary(str(settings.warehouse))
    skipped = [
        e.asset_key.to_user_string()
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION_PLANNED"
    ]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    not_built = sorted(set(skipped) - materialized)

    print()
    print(
        f"newsroom run {result.run_id[:8]} {'succeeded' if result.success and not failed else 'FAILED'} "
        f"in {elapsed:.1f} s{' ' + where if where else ''}"
    )
    print(
        f"  files      {counts['files_loaded']} loaded, {counts['files_empty']} empty, "
        f"{counts['files_rejected']} rejected  ({counts['lines']} lines)"
    )
    print(f"  marts      {counts['headlines']} headlines, {counts['articles']} articles")
    print(f"  checks     {passed} passed, {len(failed)} failed")
    for check in failed:
        print(f"    FAILED   {check.asset_key.to_user_string()} {check.check_name}")
    if not_built:
        print(f"  not built  {', '.join(not_built)} (stopped by a failed gate or error)")
    print(f"  warehouse  {_rel(settings.warehouse)}  (working copy, written by the pipeline)")
    published = settings.analytics_path.exists() and not failed and result.success
    print(
        f"  analytics  {_rel(settings.analytics_path)}  ({'published' if published else 'NOT published by this run'}; open it read-only)"
    )
    print(f"  report     {_rel(settings.report_dir / 'index.html')}")
    print("  UI         make ui   (dagster dev on http://127.0.0.1:3000)")
    print("  SQL        make sql  (read-only DuckDB shell on the analytics copy)")
    return 0 if result.success and not failed else 1


def main(argv: list[str] | None = None) -> int:
    """`run`: the job on the resident runner when one listens for this instance, else here.
    `serve`: be that resident runner (until Ctrl-C or SIGTERM)."""
    from orchestration import resident

    parser = argparse.ArgumentParser(prog="newsroom")
    parser.add_argument("command", choices=["run", "serve"])
    args = parser.parse_args(argv)
    if args.command == "serve":
        return resident.serve()
    answer = resident.request("run")
    if answer.exit_code is not None:
        return answer.exit_code
    if answer.reason not in (resident.NO_RUNNER, resident.NO_HOME, resident.OPTED_OUT):
        print(f"running here: {answer.reason}", file=sys.stderr, flush=True)
    return run()


def exit_without_teardown(code: int) -> NoReturn:
    """End the CLI's process once its work is done, skipping the interpreter's teardown of every
    module and object: with dagster, dbt and Great Expectations loaded that took 2.0-2.2 s after the
    summary, a 1 GB incremental run (docs/benchmarks_notes.md). What must happen at exit still does:
    the warm analysis worker is stopped, the log handlers and the streams are flushed, and the
    process's exit handlers run (temporary files, multiprocessing's semaphores)."""
    analysis = sys.modules.get("assets.file_analysis")  # not imported when the resident runner ran it
    if analysis is not None:
        analysis.cool_down(wait=True)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    exit_without_teardown(main())
