"""The analyst copy's file handling (assets/publish.py) on small DuckDB files: each publish starts
from the copy the one before it replaced, never from a file a reader holds or the current copy
itself, and the publication history always follows the newest copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from assets.publish import publish_analytics


def _warehouse(path: Path, headlines: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.headlines as select range as headline_id from range(?)", [headlines]
    )
    return con


def _started(target: Path) -> list[str]:
    with duckdb.connect(str(target), read_only=True) as con:
        return [
            s
            for (s,) in con.execute(
                "select started_from from quality.publications order by published_at"
            ).fetchall()
        ]


def test_each_publish_starts_from_the_copy_before_the_last(tmp_path: Path) -> None:
    target = tmp_path / "analytics.duckdb"
    previous = tmp_path / ".analytics.duckdb.previous"
    for n in (3, 4, 5):
        with _warehouse(tmp_path / "warehouse.duckdb", n) as con:
            counts = publish_analytics(con, target).counts
        assert counts == {"marts.headlines": n}
        with duckdb.connect(str(target), read_only=True) as copy:
            assert copy.execute("select count(*) from marts.headlines").fetchall() == [(n,)]
    # the history holds every publish, though the last one started from a copy that lacked one
    assert _started(target) == ["empty", "copy", "previous"]
    assert previous.exists() and not os.path.samefile(previous, target)
    with duckdb.connect(str(previous), read_only=True) as copy:  # the one the last publish replaced
        assert copy.execute("select count(*) from marts.headlines").fetchall() == [(4,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".analytics.duckdb.previous", "analytics.duckdb", "warehouse.duckdb"
    ]  # fmt: skip


def test_a_kept_copy_that_is_the_current_one_is_never_written(tmp_path: Path) -> None:
    """A publish stopped between keeping the old copy (a hard link) and renaming the new one over
    it leaves the kept name on the current file: the next publish must not write into it."""
    target = tmp_path / "analytics.duckdb"
    with _warehouse(tmp_path / "warehouse.duckdb", 3) as con:
        publish_analytics(con, target)
    current = target.read_bytes()
    os.link(target, tmp_path / ".analytics.duckdb.previous")
    with _warehouse(tmp_path / "warehouse.duckdb", 4) as con:
        assert publish_analytics(con, target).started_from == "copy"
    assert (tmp_path / ".analytics.duckdb.previous").read_bytes() == current


def test_a_kept_copy_a_reader_still_holds_is_left_to_them(tmp_path: Path) -> None:
    target = tmp_path / "analytics.duckdb"
    with _warehouse(tmp_path / "warehouse.duckdb", 3) as con:
        publish_analytics(con, target)
    reader = subprocess.Popen(
        [
            sys.executable, "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); print('open', flush=True); "
            "sys.stdin.readline(); print(con.execute('select count(*) from marts.headlines').fetchall()[0][0])",
            str(target),
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert reader.stdout.readline().strip() == "open"  # holds the first copy
    with _warehouse(tmp_path / "warehouse.duckdb", 4) as con:
        assert publish_analytics(con, target).started_from == "copy"  # the first copy is now kept
        con.execute("create or replace table marts.headlines as select range as headline_id from range(5)")
        assert publish_analytics(con, target).started_from == "copy"  # but the reader holds it
    out, _ = reader.communicate("\n", timeout=60)
    assert out.strip() == "3"  # the reader's file was never written
    assert _started(target) == ["empty", "copy", "copy"]
    with _warehouse(tmp_path / "warehouse.duckdb", 6) as con:  # the reader is gone
        assert publish_analytics(con, target).started_from == "previous"


def test_after_the_marts_are_rebuilt_the_next_publish_copies_the_copy_in_step(tmp_path: Path) -> None:
    """The copy before the last was synced against the marts' former build: syncing it would rewrite
    every table, so a publish starts from a byte copy of the current copy once that one is in step
    with the marts' build, and syncs it file by file."""
    target = tmp_path / "analytics.duckdb"

    def publish(files: int, built_at: str) -> str:
        with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
            con.execute("create schema if not exists marts; create schema if not exists intermediate")
            con.execute(
                "create or replace table marts.articles as select 'f' || range as file_id from range(?)",
                [files],
            )
            con.execute(
                "create or replace table intermediate.dbt_layer_builds as "
                "select 'marts' as layer, 'digest' as digest, ?::timestamp as built_at",
                [built_at],
            )
            started = publish_analytics(con, target).started_from
        with duckdb.connect(str(target), read_only=True) as copy:
            assert copy.execute("select count(*) from marts.articles").fetchall() == [(files,)]
        return started

    assert publish(3, "2026-11-01") == "empty"
    assert publish(4, "2026-11-01") == "copy"
    assert publish(5, "2026-11-02") == "previous"  # rebuilt: neither copy is in step, the tables are copied
    assert publish(6, "2026-11-02") == "copy"  # the current copy is in step, the one before it is not
    assert publish(7, "2026-11-02") == "previous"  # both in step again
    with duckdb.connect(str(target), read_only=True) as copy:
        assert copy.execute(
            "select started_from, tables_copied, tables_synced from quality.publications order by published_at"
        ).fetchall() == [
            ("empty", 1, 0),
            ("copy", 0, 1),
            ("previous", 1, 0),
            ("copy", 0, 1),
            ("previous", 0, 1),
        ]
