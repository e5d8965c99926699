"""Dagster asset that lands raw files in DuckDB (raw.files, raw.lines, raw.file_paths)."""

from collections import Counter

import dagster as dg

from assets import parquet_store
from assets.file_analysis import POOL_MIN_LINES, warm_up
from assets.progress import Progress
from assets.raw_store import DDL, FileOutcome, load_raw_dir
from orchestration.metadata import markdown_table, python_table_metadata, table_metadata
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import PIPELINE_OWNER, WRITER_POOL

#: Executors that run every step in the run's own process: the job's (`dagster dev`, schedules,
#: sensors) and the one `execute_in_process` puts in its place (`make run`, tests)
IN_PROCESS_EXECUTORS = {"in_process", "execute_in_process_executor"}
RAW_FILES = dg.AssetKey(["raw", "files"])
RAW_LINES = dg.AssetKey(["raw", "lines"])
RAW_FILE_PATHS = dg.AssetKey(["raw", "file_paths"])
RAW_REJECTED_PATHS = dg.AssetKey(["raw", "rejected_paths"])


def _spec(key: dg.AssetKey, description: str, kinds: set[str]) -> dg.AssetSpec:
    table = key.path[1]
    return dg.AssetSpec(
        key,
        group_name="raw",
        kinds=kinds,
        owners=[PIPELINE_OWNER],
        description=description,
        metadata=python_table_metadata(DDL, f"raw.{table}", source="raw"),
    )


def _listing(columns: list[str], rows: list[tuple], limit: int = 100) -> str:
    """A markdown table of at most `limit` rows (the full list is in raw.files / raw.rejected_paths)."""
    if not rows:
        return "none"
    more = f"\n\n… and {len(rows) - limit} more" if len(rows) > limit else ""
    return markdown_table(columns, rows[:limit]) + more


def _analysed_here_later(context: dg.AssetExecutionContext, paths: NewsroomPaths, new_lines: int) -> bool:
    """The text analysis of the few files just loaded will run in this process (the in-process
    executor, not Spark), after the dbt layers: its models can load meanwhile (`warm_up`)."""
    in_process = context.job_def.executor_def.name in IN_PROCESS_EXECUTORS
    return in_process and not paths.on_spark and 0 < new_lines < POOL_MIN_LINES


@dg.multi_asset(
    name="raw_files_and_lines",
    specs=[
        _spec(
            RAW_FILES,
            "One row per distinct file content (sha256) found under the raw dir: path, size, "
            "encoding, line count, status (loaded / empty / rejected) and the reason.",
            {"python", "duckdb", "polars"},
        ),
        _spec(
            RAW_LINES,
            "Every line of every loaded file: file_id, 1-based line_no, decoded text.",
            {"python", "duckdb", "polars"},
        ),
        _spec(
            RAW_FILE_PATHS,
            "Every path a content was seen at: duplicates under other names, and older versions of "
            "changed files (superseded_at set) — nothing is deleted.",
            {"python", "duckdb"},
        ),
        _spec(
            RAW_REJECTED_PATHS,
            "Paths that were not read at all (symlink out of the raw dir, unreadable), with the reason.",
            {"python", "duckdb"},
        ),
    ],
    pool=WRITER_POOL,
)
def raw_files_and_lines(context: dg.AssetExecutionContext, duckdb: Warehouse, paths: NewsroomPaths):
    """Load files not seen before; a file already loaded (same sha256) is skipped, so reruns add nothing."""

    def on_batch(outcomes: list[FileOutcome], progress: Progress) -> None:
        # One line per committed batch (a Dagster event per file cost more than loading it), and one
        # warning per file that was not loaded: the run log (and `make run`) shows files, bytes, rate.
        counts = Counter(o.status for o in outcomes)
        lines = sum(o.line_count for o in outcomes)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        context.log.info(
            f"[{progress.line()}] {summary}; {lines} lines: {outcomes[0].path} … {outcomes[-1].path}"
        )
        for o in outcomes:
            if o.status in ("rejected", "unreadable"):
                context.log.warning(f"{o.status} {o.path}: {o.reason}")

    with duckdb.get_connection() as con:
        report = load_raw_dir(con, paths.raw_path, on_batch=on_batch)
        if _analysed_here_later(context, paths, report.new_lines):
            if warm_up() is not None:
                context.log.info("the text analysis' models are loading in a worker process meanwhile")
            else:
                context.log.info("the text analysis' models are loaded in this process' warm worker")
        parquet_files = parquet_store.write_raw(con, paths.parquet) if paths.parquet else 0
        if paths.parquet:
            context.log.info(f"Parquet copy under {paths.parquet}: lines of {parquet_files} new files")
        tables = {key: table_metadata(con, ".".join(key.path)) for key in context.selected_asset_keys}
    rejected = [o for o in report.outcomes if o.status in ("rejected", "unreadable")]
    loaded = [o for o in report.outcomes if o.status in ("loaded", "empty")]
    yield dg.MaterializeResult(
        asset_key=RAW_FILES,
        metadata={
            **tables[RAW_FILES],
            "files_seen": len(report.outcomes),
            "files_loaded": report.count("loaded"),
            "files_empty": report.count("empty"),
            "files_rejected": len(rejected),
            "files_already_loaded": report.count("already_loaded"),
            "paths_not_read": report.count("unreadable"),
            "parquet_files_written": parquet_files,
            "loaded_this_run": dg.MetadataValue.md(
                _listing(["path", "status", "lines"], [(o.path, o.status, o.line_count) for o in loaded])
            ),
            "rejected": dg.MetadataValue.md(
                _listing(["path", "reason"], [(o.path, o.reason) for o in rejected])
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_LINES, metadata={**tables[RAW_LINES], "lines_added": report.new_lines}
    )
    yield dg.MaterializeResult(asset_key=RAW_FILE_PATHS, metadata=tables[RAW_FILE_PATHS])
    yield dg.MaterializeResult(
        asset_key=RAW_REJECTED_PATHS,
        metadata={**tables[RAW_REJECTED_PATHS], "paths_not_read": report.count("unreadable")},
    )
