"""Reruns, crashes and readers: the same tables after any rerun, no half-loaded file after a kill,
changed files kept as superseded versions, and analysts never blocked (nor blocking)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.definitions import ASSETS, build_defs
from orchestration.settings import PROJECT_ROOT
from tests.conftest import copy_sample, make_settings, query, run_pipeline

COUNTED = [
    "raw.files", "raw.lines", "raw.file_paths", "intermediate.int_line_roles", "intermediate.line_language",
    "intermediate.headline_topics", "intermediate.headline_matches", "intermediate.headline_pairs",
    "marts.headlines", "marts.articles", "marts.article_paragraphs", "marts.line_roles", "marts.stories",
    "marts.topic_counts", "marts.file_quality", "marts.headline_pairs",
]  # fmt: skip


def _snapshot(settings) -> dict[str, list[tuple]]:
    """Every row of every table that matters (timestamps left out), for exact comparison."""
    out = {}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for table in COUNTED:
            columns = [
                c for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema || '.' || table_name = ? "
                    "and data_type not like 'TIMESTAMP%' order by ordinal_position", [table]
                ).fetchall()
            ]  # fmt: skip
            out[table] = sorted(
                map(repr, con.execute(f"select {', '.join(columns)} from {table}").fetchall())
            )
    return out


def test_rerunning_each_asset_leaves_every_table_unchanged(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    copy_sample(settings.raw_dir)
    assert run_pipeline(settings).success
    before = _snapshot(settings)
    defs = build_defs(settings)
    instance = dg.DagsterInstance.ephemeral()
    for assets_def in ASSETS:  # each asset (and its checks) alone, in graph order
        result = dg.materialize(
            [*ASSETS], resources=defs.resources, instance=instance, selection=list(assets_def.keys)
        )
        assert result.success, assets_def.op.name
        assert _snapshot(settings) == before, assets_def.op.name
    assert run_pipeline(settings, instance).success  # and the whole graph again
    assert _snapshot(settings) == before


KILLABLE_LOAD = textwrap.dedent(
    """
    import sys, duckdb
    from pathlib import Path
    from assets.raw_store import ensure_schema, iter_raw_files, load_file
    con = duckdb.connect(sys.argv[1])
    ensure_schema(con)
    raw = Path(sys.argv[2])
    for n, path in enumerate(iter_raw_files(raw), start=1):  # what load_raw_dir does, reporting each commit
        load_file(con, path, path.relative_to(raw).as_posix())
        print("committed", n, flush=True)
    """
)


def test_a_load_killed_midway_leaves_whole_files_and_the_next_run_finishes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    lines = "\n".join(f"Headline number {i} about markets, weather and sport" for i in range(20_000))
    for n in range(60):
        (settings.raw_dir / f"big_{n:03d}.txt").write_text(f"{n}\n{lines}\n", encoding="utf-8")
    loader = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_LOAD, str(settings.warehouse), str(settings.raw_dir)],
        cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    for _ in range(5):  # five files committed; the sixth is being written when the plug is pulled
        assert loader.stdout.readline().startswith("committed")
    os.kill(loader.pid, signal.SIGKILL)
    loader.wait()
    with duckdb.connect(str(settings.warehouse)) as con:  # the WAL replays committed files only
        loaded = con.execute("select count(*) from raw.files").fetchall()[0][0]
        torn = con.execute(
            "select f.path from raw.files f left join raw.lines l using (file_id) group by f.path, f.line_count "
            "having count(l.line_no) <> f.line_count"
        ).fetchall()
        lines_stored = con.execute("select count(*) from raw.lines").fetchall()[0][0]
    assert 5 <= loaded < 60
    assert torn == []
    assert lines_stored == loaded * 20_001
    result = dg.materialize(  # the next run (of the loader, through Dagster) finishes the job
        ASSETS,
        resources=build_defs(settings).resources,
        instance=dg.DagsterInstance.ephemeral(),
        selection=dg.AssetSelection.groups("raw"),
    )
    assert result.success
    assert query(settings, "select count(*), sum(line_count) from raw.files") == [(60, 60 * 20_001)]


def test_a_changed_file_is_a_new_version_and_the_old_one_is_kept(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = settings.raw_dir / "wire.txt"
    path.write_text("-\nMarkets open higher in Tokyo\n-\nStorm hits northern coast\n", encoding="utf-8")
    assert run_pipeline(settings).success
    old_id = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(
        "-\nMarkets open higher in Tokyo\n-\nStorm batters northern coast, two dead\n", encoding="utf-8"
    )
    new_id = hashlib.sha256(path.read_bytes()).hexdigest()
    assert run_pipeline(settings).success
    files = dict(
        (fid, superseded is not None)
        for fid, superseded in query(settings, "select file_id, superseded_at from raw.files")
    )
    assert files == {old_id: True, new_id: False}
    assert query(settings, "select count(*) from raw.lines where file_id = ?", [old_id]) == [(4,)]  # kept
    headlines = sorted(t for (t,) in query(settings, "select text from marts.headlines"))
    assert headlines == ["Markets open higher in Tokyo", "Storm batters northern coast, two dead"]
    paths = query(
        settings, "select file_id, superseded_at is null from raw.file_paths where path = 'wire.txt'"
    )
    assert sorted(paths) == sorted([(old_id, False), (new_id, True)])
    # reverting the file makes the old version current again, without loading it twice
    path.write_text("-\nMarkets open higher in Tokyo\n-\nStorm hits northern coast\n", encoding="utf-8")
    assert run_pipeline(settings).success
    assert query(settings, "select count(*) from raw.files") == [(2,)]
    assert query(settings, "select file_id from raw.files where superseded_at is null") == [(old_id,)]


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    path, seconds, stop = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    held = duckdb.connect(path, read_only=True)  # one connection held open the whole time
    first = held.execute("select count(*) from marts.headlines").fetchall()[0][0]
    errors, queries, changed, end = 0, 0, 0, time.time() + seconds
    import os
    while time.time() < end and not os.path.exists(stop):
        try:
            with duckdb.connect(path, read_only=True) as con:  # and fresh ones, again and again
                con.execute("select count(*) from marts.headlines").fetchall()
            # the held file is never written: it keeps the rows it had when opened
            changed += held.execute("select count(*) from marts.headlines").fetchall()[0][0] != first
            queries += 1
        except Exception as exc:
            errors += 1
            print("ERROR", exc, flush=True)
        time.sleep(0.05)
    print("RESULT", first, queries, errors, changed, flush=True)
    """
)


def test_readers_and_runs_never_block_each_other(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    copy_sample(settings.raw_dir)
    assert run_pipeline(settings).success
    before = query_analytics(settings)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.analytics_path), "300", str(tmp_path / "stop")],
        stdout=subprocess.PIPE,
        text=True,
    )
    (settings.raw_dir / "new.txt").write_text(
        "-\nCentral bank surprises with rate cut\n-\nFloods close schools\n"
    )
    time.sleep(1)
    result = run_pipeline(settings)  # a run while the reader holds the analyst copy open
    assert result.success
    # the next publish would start from the copy the last one replaced (assets/publish.py), but the
    # reader still holds it: that file is left to them and the current copy is copied instead
    (settings.raw_dir / "later.txt").write_text("-\nHarbour reopens after the storm\n")
    assert run_pipeline(settings).success
    (tmp_path / "stop").touch()
    out, _ = reader.communicate(timeout=120)
    first, queries, errors, changed = map(int, out.strip().splitlines()[-1].split()[1:])
    assert errors == 0 and changed == 0, out
    assert queries > 20 and first == before == 63
    assert query_analytics(settings) == 66  # the new copy is there for the next reader
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        started = con.execute(
            "select started_from from quality.publications order by published_at"
        ).fetchall()
    assert started == [("empty",), ("copy",), ("copy",)]


def query_analytics(settings) -> int:
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        return con.execute("select count(*) from marts.headlines").fetchall()[0][0]


def test_a_run_whose_gate_fails_does_not_publish(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    copy_sample(settings.raw_dir)
    assert run_pipeline(settings).success
    published = settings.analytics_path.read_bytes()
    (settings.raw_dir / "odd.txt").write_text(
        "-\nx\n-\nA real headline\n", encoding="utf-8"
    )  # fails the marts gate
    result = run_pipeline(settings)
    assert not result.success
    assert "quality/analytics_copy" not in {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
    }
    assert settings.analytics_path.read_bytes() == published
    assert not list(settings.analytics_path.parent.glob(".analytics.duckdb.*.tmp*"))  # no temp files left
