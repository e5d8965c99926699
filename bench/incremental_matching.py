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
        for label, sql in {
            "pairs (incremental, full)": "select (select count(*) from inc_pairs), count(*) from intermediate.headline_pairs",
            "only in the full match": "select rule, count(*) from (select * exclude (score) from intermediate.headline_pairs "
            "except select * exclude (score) from inc_pairs) group by rule",
            "only in the incremental match": "select rule, count(*) from (select * exclude (score) from inc_pairs "
            "except select * exclude (score) from intermediate.headline_pairs) group by rule",
            "scores moved (count, largest)": "select count(*), max(abs(a.score - b.score)) from inc_pairs a "
            "join intermediate.headline_pairs b using (headline_id_a, headline_id_b, relation) where a.score <> b.score",
            "headlines in another story, another duplicate group": "select count(*) filter (where a.story_id <> b.story_id), "
            "count(*) filter (where a.duplicate_group_id is distinct from b.duplicate_group_id) "
            "from inc_matches a join intermediate.headline_matches b using (headline_id)",
        }.items():
            print(f"{label}: {con.execute(sql).fetchall()}")
        con.close()


if __name__ == "__main__":
    main()
