"""Incremental matching against a full match, on a copy of a bench warehouse (any size).

`python -m bench.incremental_matching data/bench/run-1GB/warehouse.duckdb`: matches every current
headline but one file of the latest day (the one nearest to the size of the bench's new 1 MB file),
adds that file incrementally, then matches everything again in full, and prints the times and how
far the incremental result drifted from the full one (docs/benchmarks_notes.md quotes a 1 GB run).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from assets import analysis

#: Headlines of the new 1 MB file of the bench's incremental run.
NEW_FILE_HEADLINES = 573


def match_drift(con: duckdb.DuckDBPyConnection, kept: str, current: str) -> dict[str, object]:
    """How far the match in `kept` (tables `{kept}_pairs` and `{kept}_matches`, or a schema's
    `headline_pairs` and `headline_matches` when `kept` is a schema) drifted from the one in `current`:
    pairs only in either, per (relation, rule) and told apart scores aside, the scores that moved, the
    headlines in another story or duplicate group. The bench prints it; tests/test_bench.py bounds it."""

    def table(where: str, name: str) -> str:
        schemas = con.execute("select schema_name from information_schema.schemata").fetchall()
        return f"{where}.headline_{name}" if (where,) in schemas else f"{where}_{name}"

    kept_pairs, pairs = table(kept, "pairs"), table(current, "pairs")
    kept_matches, matches = table(kept, "matches"), table(current, "matches")
    pair = "headline_id_a, headline_id_b, relation, rule"

    def only(a: str, b: str) -> list[tuple[str, str, int]]:
        return con.execute(
            f"select relation, rule, count(*) from (select {pair} from {a} except select {pair} from {b}) "
            "group by all order by all"
        ).fetchall()

    return {
        "pairs (kept, current)": con.execute(
            f"select (select count(*) from {kept_pairs}), (select count(*) from {pairs})"
        ).fetchall()[0],
        "only in the current match": only(pairs, kept_pairs),
        "only in the kept match": only(kept_pairs, pairs),
        "scores moved (count, largest)": con.execute(
            f"select count(*), max(abs(a.score - b.score)) from {kept_pairs} a "
            f"join {pairs} b using (headline_id_a, headline_id_b, relation) where a.score <> b.score"
        ).fetchall()[0],
        "headlines in another story, another duplicate group": con.execute(
            "select count(*) filter (where a.story_id <> b.story_id), "
            "count(*) filter (where a.duplicate_group_id is distinct from b.duplicate_group_id) "
            f"from {kept_matches} a join {matches} b using (headline_id)"
        ).fetchall()[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--memory-limit", default="2GB")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.warehouse.parent) as scratch:
        db = Path(scratch) / "copy.duckdb"
        shutil.copy(args.warehouse, db)
        con = duckdb.connect(str(db))
        con.execute(f"set memory_limit = '{args.memory_limit}'")
        con.execute(analysis.DDL)
        file_id, headlines = con.execute(
            """
            select file_id, count(*) from intermediate.headline_features
            where day = (select max(day) from intermediate.headline_features)
            group by file_id order by abs(count(*) - ?), file_id limit 1
            """,
            [NEW_FILE_HEADLINES],
        ).fetchall()[0]
        version = "bench"
        con.execute("update raw.files set superseded_at = now() where file_id = ?", [file_id])
        started = time.perf_counter()
        analysis.match_all(con, version, analysis.plan_matching(con, version))
        print(
            f"full match without {file_id[:12]} ({headlines} headlines): {time.perf_counter() - started:.1f} s"
        )
        con.execute("update raw.files set superseded_at = null where file_id = ?", [file_id])
        started = time.perf_counter()
        plan = analysis.plan_matching(con, version)
        regrouped = analysis.match_incremental(con, version, plan)
        print(
            f"{plan.mode} match of it: {time.perf_counter() - started:.1f} s, {regrouped} older headlines regrouped"
        )
        con.execute("create temp table inc_pairs as select * from intermediate.headline_pairs")
        con.execute("create temp table inc_matches as select * from intermediate.headline_matches")
        started = time.perf_counter()
        analysis.match_all(con, version, analysis.plan_matching(con, version, rematch=True))
        print(f"full match with it: {time.perf_counter() - started:.1f} s")
        drift = match_drift(con, "inc", "intermediate")
        for label, value in drift.items():
            print(f"{label}: {value}")
        con.close()


if __name__ == "__main__":
    main()
