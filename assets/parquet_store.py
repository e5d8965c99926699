"""Parquet copies of the raw layer and of the text analysis: what an engine that cannot read a DuckDB
file (Spark, for the `spark` dbt target) reads instead.

Layout under the root, a local folder or an object-store URL DuckDB can write (`s3://…` with the
httpfs extension and credentials configured in the warehouse connection):

    raw/files/data_0.parquet                                    whole table, rewritten after each load
    raw/file_paths/data_0.parquet, raw/rejected_paths/…         the same
    raw/lines/load_date=YYYY-MM-DD/file_id=<sha256>/data_0.parquet   one partition per file, written once
    intermediate/<analysis table>/data_0.parquet                rewritten after each text analysis

A file's lines never change (its sha256 is its id), so each file's partition is written once: the
files already exported to a root are recorded in raw.parquet_exports, and a rerun, or a run after a
crash between the load and the export, writes exactly the partitions that are missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb

RAW_TABLES = ("files", "file_paths", "rejected_paths")
EXPORT_BATCH = 256  # files per COPY: one statement per file costs a scan of raw.lines each

DDL = """
create table if not exists raw.parquet_exports (root varchar, file_id varchar, exported_at timestamp);
"""


def _is_local(root: str) -> bool:
    return "://" not in root


def _folder(root: str, *parts: str) -> str:
    """`root/parts…`, created first when local (DuckDB's COPY to a single file needs its folder)."""
    path = "/".join([root.rstrip("/"), *parts])
    if _is_local(root):
        Path(path).mkdir(parents=True, exist_ok=True)
    return path


def _copy_table(con: duckdb.DuckDBPyConnection, table: str, folder: str) -> None:
    """The whole table as the folder's only file (a Spark run of the analysis leaves part files there)."""
    if _is_local(folder):
        for stale in Path(folder).iterdir():
            if stale.is_file():
                stale.unlink()
    con.execute(f"copy (select * from {table}) to '{folder}/data_0.parquet' (format parquet)")


def write_raw(con: duckdb.DuckDBPyConnection, root: str) -> int:
    """Export the raw layer to `root`: the small file tables whole, the lines of every current loaded
    file not yet exported there. Returns the number of files whose lines were written."""
    con.execute(DDL)
    for table in RAW_TABLES:
        _copy_table(con, f"raw.{table}", _folder(root, "raw", table))
    pending = [
        row[0]
        for row in con.execute(
            """
            select f.file_id from raw.files f
            where f.status = 'loaded'
              and f.file_id not in (select file_id from raw.parquet_exports where root = ?)
            order by f.file_id
            """,
            [root],
        ).fetchall()
    ]
    lines = _folder(root, "raw", "lines")
    for start in range(0, len(pending), EXPORT_BATCH):
        batch = pending[start : start + EXPORT_BATCH]
        con.execute(
            f"""
            copy (
                select l.file_id, l.line_no, l.text, cast(f.loaded_at as date) as load_date
                from raw.lines l join raw.files f on f.file_id = l.file_id
                where l.file_id in (select unnest(?::varchar[]))
                order by l.file_id, l.line_no
            ) to '{lines}' (format parquet, partition_by (load_date, file_id), overwrite_or_ignore true)
            """,
            [batch],
        )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.executemany(
            "insert into raw.parquet_exports values (?, ?, ?)", [[root, file_id, now] for file_id in batch]
        )
    return len(pending)


def write_analysis(con: duckdb.DuckDBPyConnection, root: str, tables: Iterable[str]) -> None:
    """Export the text analysis tables (the marts' other sources) to `root/intermediate/`."""
    for table in tables:
        _copy_table(con, f"intermediate.{table}", _folder(root, "intermediate", table))
