"""Publishing the analyst copy: readers never block the pipeline, the pipeline never breaks readers.

DuckDB allows one writing process per file, and a reader in another process cannot open a file a
writer holds. So analysts never open the working warehouse: after a successful, fully-gated run this
asset copies the tables they read (every `marts` and `quality` table, and `raw.files`,
`raw.file_paths`, `raw.rejected_paths`) into a new DuckDB file beside the target and renames it over
the target in one atomic step (on the spark target the marts are views over Spark's Parquet in the
warehouse; the copy holds them as tables). A reader holding the old copy keeps reading the old file (the rename
does not touch an open file); the next reader opens the new one. A run whose gate fails never gets
here, so the copy is always one that passed every gate.

The new file starts from the copy the last publish replaced, kept beside the target as
`.<name>.previous` (or, when a reader still has that one open, or there is none, or only the current
one is in step with the marts' build, from a byte copy of the current one), so most of it is not
written again: the per-file
marts (`SYNCED_BY_FILE`) only lose the rows of files that are gone and gain those of new files, as
in the warehouse (their rows never change for a file while the marts' rules stay the same).
`marts.headlines` and `marts.stories` lose the rows of files or stories that are gone and take the
rows stamped with a later match than the copy holds (`matched_at`: a new file's headlines, older
headlines whose groups it changed, the stories a build redid). `marts.headline_pairs` loses the
pairs the matcher dropped and gains its new ones: those the match log holds since the copy's latest
pair (assets/analysis.py), or, after a full match, those the two tables' matcher columns tell apart
(the texts follow from the ids). Every other table is replaced whole. When the marts were rebuilt from scratch since
the last copy (new rules), or a table's columns changed, the table is copied whole.
`tests/test_reruns_and_readers.py` holds the result to a copy made from nothing.
"""

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import dagster as dg
import duckdb

from assets.analysis import no_full_match_since
from assets.quality_report import MARTS
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import ANALYTICS_OWNER, PIPELINE_OWNER, WRITER_POOL

RAW_TABLES_FOR_ANALYSTS = ("files", "file_paths", "rejected_paths")
#: Per-file marts (dbt_project/macros/per_file.sql) whose rows of a file never change between full
#: builds. marts.headlines is per-file too, but a new file can change older headlines' groups.
SYNCED_BY_FILE = ("marts.line_roles", "marts.article_paragraphs", "marts.articles")


@dataclass(frozen=True)
class RowSync:
    """How to sync a table whose rows are never changed, only added and deleted."""

    #: the columns that say which row it is (the others follow from them)
    columns: tuple[str, ...]
    #: a log of the rows removed from the table since a time (`matched_at`, `change`, `columns`),
    #: and whether it reaches back to the copy; the rows added carry their own `matched_at`
    log: str | None = None


#: Tables synced row by row: the matcher's pairs, from its log (assets/analysis.py) when it reaches
#: back to the copy, else by comparing the two tables
SYNCED_BY_ROW = {
    "marts.headline_pairs": RowSync(
        ("headline_id_a", "headline_id_b", "relation", "score", "rule"), log="intermediate.pair_changes"
    )
}
#: Marts whose rows are written, or rewritten, only by a later match, stamped `matched_at`
#: (dbt_project/macros/marts.sql): headlines (a new file's rows, and older rows whose groups it
#: changed) and stories (aggregate_config). Per table: the key a rewritten row replaces, and the
#: column whose values, once gone from the source, take their rows out of the copy.
SYNCED_BY_MATCH = {"marts.headlines": ("headline_id", "file_id"), "marts.stories": ("story_id", "story_id")}
SYNCED = (*SYNCED_BY_FILE, *SYNCED_BY_ROW, *SYNCED_BY_MATCH)
PUBLICATIONS_DDL = """
create table if not exists analytics_copy.quality.publications (
    published_at timestamp, marts_built_at timestamp, tables_copied integer, tables_synced integer,
    started_from varchar)
"""


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, table],
    ).fetchall()


def _first_value(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    """The first column of the query's first row; None when it has none or its table is missing."""
    try:
        rows = con.execute(sql).fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def _drop_gone(con: duckdb.DuckDBPyConnection, copy: str, source: str, column: str) -> None:
    """Delete the copy's rows whose `column` value (a file, a story) the source no longer holds. The
    values are compared first: `not in` over the table itself is null-aware and read every row with
    all its columns (2 s for `marts.line_roles` at 1 GB, with nothing to move), where `in` a short
    list lets DuckDB skip the row groups without those values."""
    con.execute(
        f'create or replace temp table gone as select distinct "{column}" as value from {copy} '
        f'except select distinct "{column}" from {source}'
    )
    con.execute(f'delete from {copy} where "{column}" in (select value from gone)')


def _sync_by_file(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Bring the copy's per-file table to the warehouse's: drop gone files, add new ones."""
    source, copy = f'"{schema}"."{table}"', f'analytics_copy."{schema}"."{table}"'
    _drop_gone(con, copy, source, "file_id")
    con.execute(
        "create or replace temp table new_files as "
        f"select distinct file_id from {source} except select distinct file_id from {copy}"
    )
    con.execute(
        f"insert into {copy} by name select * from {source} where file_id in (select file_id from new_files)"
    )


def _sync_by_log(con: duckdb.DuckDBPyConnection, schema: str, table: str, sync: RowSync) -> bool:
    """The rows `sync.log` holds since the copy's latest row: those added are in the source with a
    later `matched_at`, those removed leave the copy. False, having done nothing, when there is no
    log or it does not reach back that far (a full match empties the match log)."""
    if sync.log is None:
        return False
    source, copy = f'"{schema}"."{table}"', f'analytics_copy."{schema}"."{table}"'
    copied_up_to = _first_value(con, f"select max(matched_at) from {copy}")
    if not no_full_match_since(con, copied_up_to):
        return False
    same = " and ".join(f'copy."{c}" = removed."{c}"' for c in sync.columns)
    con.execute(
        f"delete from {copy} as copy where exists (select 1 from {sync.log} as removed "
        f"where removed.change = 'removed' and removed.matched_at > ? and {same})",
        [copied_up_to],
    )
    con.execute(f"insert into {copy} by name select * from {source} where matched_at > ?", [copied_up_to])
    return True


def _sync_by_row(con: duckdb.DuckDBPyConnection, schema: str, table: str, sync: RowSync) -> None:
    """Delete the copy's rows the source lacks, insert the source's rows the copy lacks; a row is
    told by `sync.columns`. From the table's log when it reaches back to the copy (5.4 M pairs
    compared each way at 1 GB: 4.9 s)."""
    if _sync_by_log(con, schema, table, sync):
        return
    source, copy = f'"{schema}"."{table}"', f'analytics_copy."{schema}"."{table}"'
    same = " and ".join(f'copy."{c}" is not distinct from source."{c}"' for c in sync.columns)
    con.execute(
        f"delete from {copy} as copy where not exists (select 1 from {source} as source where {same})"
    )
    con.execute(
        f"insert into {copy} by name select * from {source} as source "
        f"where not exists (select 1 from {copy} as copy where {same})"
    )


def _sync_by_match(con: duckdb.DuckDBPyConnection, schema: str, table: str, key: str, gone_by: str) -> None:
    """Rows whose `gone_by` value the source no longer holds (files, stories) leave the copy; the rows
    the source wrote for a later match than the copy holds (`matched_at`: new files' rows, regrouped
    headlines, the stories a build redid) replace the copy's rows of the same `key`."""
    source, copy = f'"{schema}"."{table}"', f'analytics_copy."{schema}"."{table}"'
    copied_up_to = _first_value(con, f"select max(matched_at) from {copy}")
    if copied_up_to is None:  # nothing stamped to start from
        con.execute(f"delete from {copy}")
        con.execute(f"insert into {copy} by name select * from {source}")
        return
    _drop_gone(con, copy, source, gone_by)
    con.execute(
        f"create or replace temp table redone as select * from {source} where matched_at > ?", [copied_up_to]
    )
    con.execute(f'delete from {copy} where "{key}" in (select "{key}" from redone)')
    con.execute(f"insert into {copy} by name select * from redone")
    con.execute("drop table redone")


def _previous(target: Path) -> Path:
    """The copy the last publish replaced, kept to start the next one from."""
    return target.with_name(f".{target.name}.previous")


def _attach_start(con: duckdb.DuckDBPyConnection, target: Path, tmp: Path, built_at: object) -> str:
    """Attach, as `analytics_copy` at `tmp`, the file this publish starts from, and say which.

    The copy the last publish replaced is taken first: syncing it costs the same as syncing the
    current one (every sync reads where its copy stands), and it saves copying the whole file
    (4.5 s for 4.4 GB at 1 GB of news). A reader who opened that file before the last publish may
    still read it, holding DuckDB's shared lock on it; then the attach fails to lock it, the file is
    left to that reader (unlinked, it lives until they close it) and the current copy is copied.
    The current copy is copied too when the marts were rebuilt from scratch (`built_at`, the build
    they are at) between the two copies and only the current one is in step: syncing the older would
    rewrite every table (38.6 s at 1 GB)."""
    previous = _previous(target)
    if previous.exists() and target.exists():
        if os.path.samefile(previous, target) or _wal(previous).exists():
            previous.unlink()  # a publish stopped between its link and its rename, or a torn file
        else:
            os.replace(previous, tmp)
            try:
                con.execute("attach ? as analytics_copy", [str(tmp)])
            except duckdb.IOException:  # a reader still has it open
                tmp.unlink()
            else:
                if not _only_current_in_step(con, target, built_at):
                    return "previous"
                con.execute("detach analytics_copy")
                for stale in (tmp, _wal(tmp)):
                    stale.unlink(missing_ok=True)
    started_from = "empty"
    if target.exists() and not _wal(target).exists():
        shutil.copyfile(target, tmp)  # start from the last copy (readers only ever read it)
        started_from = "copy"
    con.execute("attach ? as analytics_copy", [str(tmp)])
    return started_from


def _marts_built_at(con: duckdb.DuckDBPyConnection, catalog: str) -> object:
    """The marts build (intermediate.dbt_layer_builds.built_at) the newest publish into the attached
    `catalog` was synced against; None before any."""
    return _first_value(
        con, f"select marts_built_at from {catalog}.quality.publications order by published_at desc limit 1"
    )


@contextlib.contextmanager
def _last_published(con: duckdb.DuckDBPyConnection, target: Path) -> Iterator[None]:
    """The current copy, attached read-only as `last_published` (a reader may hold it too)."""
    con.execute("attach ? as last_published (read_only)", [str(target)])
    try:
        yield
    finally:
        con.execute("detach last_published")


def _only_current_in_step(con: duckdb.DuckDBPyConnection, target: Path, built_at: object) -> bool:
    """Whether the current copy was synced against the marts' build `built_at` and the attached
    `analytics_copy` (the copy before it) was not."""
    if built_at is None or _marts_built_at(con, "analytics_copy") == built_at:
        return False
    with _last_published(con, target):
        return _marts_built_at(con, "last_published") == built_at


def _carry_publications(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """The publication history lives only in the copies: take the current copy's, which holds the
    last publish that the earlier copy lacks."""
    with _last_published(con, target):
        if _first_value(con, "select count(*) from last_published.quality.publications") is not None:
            con.execute("create schema if not exists analytics_copy.quality")
            con.execute(
                "create or replace table analytics_copy.quality.publications as "
                "select * from last_published.quality.publications"
            )


def _swap_in(tmp: Path, target: Path) -> None:
    """Put the finished copy at `target` in one atomic rename (readers see the old or the new file),
    keeping the one it replaces as the next publish's start."""
    previous = _previous(target)
    previous.unlink(missing_ok=True)
    if target.exists():
        os.link(target, previous)
    os.replace(tmp, target)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


class Publication(NamedTuple):
    #: rows per published table
    counts: dict[str, int]
    #: what the new copy started from: the copy before the last ("previous"), a byte copy of the
    #: last ("copy"), or nothing ("empty")
    started_from: str


def publish_analytics(con: duckdb.DuckDBPyConnection, target: Path) -> Publication:
    """Copy the analyst tables from `con`'s database into `target`, atomically; return row counts."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tables = con.execute(
        """
        select table_schema, table_name from information_schema.tables
        where table_catalog = current_database() and table_type in ('BASE TABLE', 'VIEW')
          and (table_schema in ('marts', 'quality') or (table_schema = 'raw' and table_name in ?))
        order by table_schema, table_name
        """,
        [list(RAW_TABLES_FOR_ANALYSTS)],
    ).fetchall()
    database = con.execute("select current_database()").fetchall()[0][0]
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    # when the marts were last built from scratch
    built_at = _first_value(con, "select built_at from intermediate.dbt_layer_builds where layer = 'marts'")
    try:
        started_from = _attach_start(con, target, tmp, built_at)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    counts: dict[str, int] = {}
    synced = 0
    try:
        # whether the copy started from was synced against that build
        same_build = built_at is not None and _marts_built_at(con, "analytics_copy") == built_at
        if started_from == "previous":  # after reading where that copy stands
            _carry_publications(con, target)
        for schema, table in tables:  # names come from the catalog, quoted as identifiers
            con.execute(f'create schema if not exists analytics_copy."{schema}"')
            copy = f'analytics_copy."{schema}"."{table}"'
            name, columns = f"{schema}.{table}", _columns(con, database, schema, table)
            if same_build and name in SYNCED and _columns(con, "analytics_copy", schema, table) == columns:
                if name in SYNCED_BY_ROW:
                    _sync_by_row(con, schema, table, SYNCED_BY_ROW[name])
                elif name in SYNCED_BY_MATCH:
                    _sync_by_match(con, schema, table, *SYNCED_BY_MATCH[name])
                else:
                    _sync_by_file(con, schema, table)
                synced += 1
            else:
                con.execute(f'create or replace table {copy} as select * from "{schema}"."{table}"')
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {copy}").fetchall()[0][0]
        # tables the warehouse no longer publishes leave the copy too
        published = {(s, t) for s, t in tables} | {("quality", "publications")}
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = 'analytics_copy'"
        ).fetchall():
            if (schema, table) not in published:
                con.execute(f'drop table analytics_copy."{schema}"."{table}"')
        con.execute("create schema if not exists analytics_copy.quality")
        con.execute(PUBLICATIONS_DDL)
        con.execute(
            "alter table analytics_copy.quality.publications add column if not exists started_from varchar"
        )
        con.execute(
            "insert into analytics_copy.quality.publications by name "
            "select current_timestamp as published_at, ? as marts_built_at, ? as tables_copied, "
            "? as tables_synced, ? as started_from",
            [built_at, len(tables) - synced, synced, started_from],
        )
        con.execute("detach analytics_copy")
        _swap_in(tmp, target)
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("detach analytics_copy")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        raise
    return Publication(counts, started_from)


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
        counts, started_from = publish_analytics(con, paths.analytics_path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(paths.analytics_path)),
            "tables": len(counts),
            "started_from": started_from,
            "headlines": counts.get("marts.headlines", 0),
            "dagster/row_count": sum(counts.values()),
        }
    )
