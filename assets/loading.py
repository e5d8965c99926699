"""Dagster asset that lands raw files in DuckDB (raw.files, raw.lines, raw.file_paths)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.raw_store import load_raw_dir
from orchestration.resources import NewsroomPaths
from orchestration.settings import WRITER_POOL

RAW_FILES = dg.AssetKey(["raw", "files"])
RAW_LINES = dg.AssetKey(["raw", "lines"])
RAW_FILE_PATHS = dg.AssetKey(["raw", "file_paths"])
RAW_REJECTED_PATHS = dg.AssetKey(["raw", "rejected_paths"])


@dg.multi_asset(
    name="raw_files_and_lines",
    specs=[
        dg.AssetSpec(
            RAW_FILES,
            group_name="raw",
            kinds={"python", "duckdb", "polars"},
            description=(
                "One row per distinct file content (sha256) found under the raw dir: path, size, "
                "encoding, line count, status (loaded / empty / rejected) and the reason."
            ),
        ),
        dg.AssetSpec(
            RAW_LINES,
            group_name="raw",
            kinds={"python", "duckdb", "polars"},
            description="Every line of every loaded file: file_id, 1-based line_no, decoded text.",
        ),
        dg.AssetSpec(
            RAW_FILE_PATHS,
            group_name="raw",
            kinds={"python", "duckdb"},
            description=(
                "Every path a content was seen at: duplicates under other names, and older versions of "
                "changed files (superseded_at set) — nothing is deleted."
            ),
        ),
        dg.AssetSpec(
            RAW_REJECTED_PATHS,
            group_name="raw",
            kinds={"python", "duckdb"},
            description="Paths that were not read at all (symlink out of the raw dir, unreadable), with the reason.",
        ),
    ],
    pool=WRITER_POOL,
)
def raw_files_and_lines(context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: NewsroomPaths):
    """Load files not seen before; a file already loaded (same sha256) is skipped, so reruns add nothing."""
    with duckdb.get_connection() as con:
        report = load_raw_dir(con, paths.raw_path)
        files_total, lines_total, paths_total, rejected_total = con.execute(
            "select (select count(*) from raw.files), (select count(*) from raw.lines), "
            "(select count(*) from raw.file_paths), (select count(*) from raw.rejected_paths)"
        ).fetchall()[0]
    for outcome in report.outcomes:
        if outcome.status == "unreadable":
            context.log.warning(f"not read {outcome.path}: {outcome.reason}")
        elif outcome.status == "rejected":
            context.log.warning(f"rejected {outcome.path}: {outcome.reason}")
        elif outcome.status in ("loaded", "empty"):
            context.log.info(f"{outcome.status} {outcome.path}: {outcome.line_count} lines")
    rejected = [o for o in report.outcomes if o.status in ("rejected", "unreadable")]
    rejected_md = "\n".join(f"| {o.path} | {o.reason} |" for o in rejected)
    yield dg.MaterializeResult(
        asset_key=RAW_FILES,
        metadata={
            "files_seen": len(report.outcomes),
            "files_loaded": report.count("loaded"),
            "files_empty": report.count("empty"),
            "files_rejected": len(rejected),
            "files_already_loaded": report.count("already_loaded"),
            "paths_not_read": report.count("unreadable"),
            "dagster/row_count": files_total,
            "rejected": dg.MetadataValue.md(
                "| path | reason |\n|---|---|\n" + rejected_md if rejected else "none"
            ),
        },
    )
    yield dg.MaterializeResult(
        asset_key=RAW_LINES,
        metadata={"lines_added": report.new_lines, "dagster/row_count": lines_total},
    )
    yield dg.MaterializeResult(asset_key=RAW_FILE_PATHS, metadata={"dagster/row_count": paths_total})
    yield dg.MaterializeResult(
        asset_key=RAW_REJECTED_PATHS,
        metadata={"paths_not_read": report.count("unreadable"), "dagster/row_count": rejected_total},
    )
