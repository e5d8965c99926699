"""Publishing the analyst copy: readers never block the pipeline, the pipeline never breaks readers.

DuckDB allows one writing process per file, and a reader in another process cannot open a file a
writer holds. So analysts never open the working warehouse: after a successful, fully-gated run this
asset copies the tables they read (every `marts` and `quality` table, and `raw.files`,
`raw.file_paths`, `raw.rejected_paths`) into a new DuckDB file beside the target and renames it over
the target in one atomic step. A reader holding the old copy keeps reading the old file (the rename
does not touch an open file); the next reader opens the new one. A run whose gate fails never gets
here, so the copy is always one that passed every gate.
"""

import contextlib
import os
import uuid
from pathlib import Path

import dagster as dg
import duckdb

from assets.quality_report import MARTS
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import ANALYTICS_OWNER, PIPELINE_OWNER, WRITER_POOL

RAW_TABLES_FOR_ANALYSTS = ("files", "file_paths", "rejected_paths")


def publish_analytics(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, int]:
    """Copy the analyst tables from `con`'s database into `target`, atomically; return row counts."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tables = con.execute(
        """
        select table_schema, table_name from information_schema.tables
        where table_catalog = current_database() and table_type = 'BASE TABLE'
          and (table_schema in ('marts', 'quality') or (table_schema = 'raw' and table_name in ?))
        order by table_schema, table_name
        """,
        [list(RAW_TABLES_FOR_ANALYSTS)],
    ).fetchall()
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    counts: dict[str, int] = {}
    con.execute("attach ? as analytics_copy", [str(tmp)])
    try:
        for schema, table in tables:  # names come from the catalog, quoted as identifiers
            con.execute(f'create schema if not exists analytics_copy."{schema}"')
            con.execute(
                f'create table analytics_copy."{schema}"."{table}" as select * from "{schema}"."{table}"'
            )
            counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from analytics_copy."{schema}"."{table}"'
            ).fetchall()[0][0]
        con.execute("detach analytics_copy")
        os.replace(tmp, target)  # atomic on one filesystem: readers see the old or the new copy
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("detach analytics_copy")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return counts


@dg.asset(
    key=["quality", "analytics_copy"],
    group_name="quality",
    kinds={"python", "duckdb"},
    owners=[PIPELINE_OWNER, ANALYTICS_OWNER],
    deps=[dg.AssetKey(["marts", name]) for name in MARTS] + [dg.AssetKey(["quality", "report"])],
    pool=WRITER_POOL,
    description=(
        "The analyst copy (data/analytics.duckdb): marts, quality history and raw file records, "
        "published atomically after every fully-gated run. Open it read-only; `make sql` does."
    ),
)
def analytics_copy(duckdb: Warehouse, paths: NewsroomPaths) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        counts = publish_analytics(con, paths.analytics_path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.analytics_path)),
            "tables": len(counts),
            "headlines": counts.get("marts.headlines", 0),
            "dagster/row_count": sum(counts.values()),
        }
    )
