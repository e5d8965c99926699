"""The benchmark harness at 1 MB, end to end: it must measure the right thing (timing is not tested)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb

from assets.analysis import KEYS, MatchPlan, match_all
from bench import corpus
from bench.incremental_matching import match_drift
from bench.run import STAGES, PipelineRun, SizeResult, bench_size, incoming_name, write_report


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.txt")):
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_corpus_is_deterministic_sized_and_has_every_shape(tmp_path: Path) -> None:
    stats = corpus.generate(tmp_path / "a", corpus.parse_size("3MB"), seed=11)
    again = corpus.generate(tmp_path / "b", corpus.parse_size("3MB"), seed=11)
    corpus.generate(tmp_path / "c", corpus.parse_size("3MB"), seed=12)
    assert stats == again and _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    files = sorted((tmp_path / "a").rglob("*.txt"))
    total = sum(p.stat().st_size for p in files)
    assert stats.bytes == total and 3 * 1024**2 <= total < 3.6 * 1024**2 and stats.files == len(files)
    texts = [p.read_bytes() for p in files]
    decoded = [
        t.decode("utf-16") if t[:2] in (b"\xff\xfe", b"\xfe\xff") else t.decode("utf-8", "replace")
        for t in texts
    ]
    assert any(t.startswith("-\n") for t in decoded)  # dash-separated lists
    assert any("\n-\n" not in t and "No time to read?" not in t for t in decoded)  # bare lists
    assert any("No time to read?" in t and "(Source: " in t for t in decoded)  # article pages
    assert {p.stem.rsplit("_", 1)[1] for p in files} >= {"en", "de", "fr"}
    headlines = [
        line for t in decoded if t.startswith("-\n") for line in t.split("\n") if line not in ("-", "")
    ]
    repeats = len(headlines) - len(set(headlines))
    assert 0.03 < repeats / len(headlines) < 0.3  # exact repeats at a realistic rate, not by accident


def test_harness_end_to_end_at_one_megabyte(tmp_path: Path) -> None:
    # one incremental run in a new process, then one handed to the resident runner (`cli serve`)
    result = bench_size("1MB", tmp_path / "work", seed=3, spark=True, incremental_runs=1)
    corpus_dir = tmp_path / "work" / "corpus-1MB-seed3"
    files = sorted(corpus_dir.rglob("*.txt"))
    assert result.full.success and result.incremental is not None and result.incremental.success
    assert result.baseline_seconds > 0 and result.baseline_lines > 0
    # the pipeline kept every line of every file, and each incremental run added exactly one file
    with duckdb.connect(str(tmp_path / "work" / "run-1MB" / "warehouse.duckdb"), read_only=True) as con:
        per_file = dict(
            con.execute("select path, line_count from raw.files where status = 'loaded'").fetchall()
        )
        sizes = dict(con.execute("select path, size_bytes from raw.files").fetchall())
    incoming = [path for path in per_file if path.rsplit("/", 1)[-1] in (incoming_name(1), incoming_name(2))]
    # the new files are real megabytes, landed in the corpus' latest dated folder
    assert len(incoming) == 2 and incoming_name(1) != incoming_name(2)
    assert all(
        sizes[path] >= 1024**2 and path.startswith(max(p.parent.name for p in files)) for path in incoming
    )
    assert len(per_file) == len(files) + 2
    assert result.full.lines == sum(v for k, v in per_file.items() if k not in incoming)
    # two runs, timed each: a cold one, then one on the resident runner, whose standby ran the job
    # through the same instance (its steps are in the event log); `incremental` is the last
    first, last = result.incremental_runs
    assert result.cold_runs == [first] and result.resident_runs == [last] and last is result.incremental
    assert min(result.incremental_seconds + result.resident_seconds) > 0
    assert last.success and set(STAGES.values()) <= set(last.stages) and last.peak_rss_mb > 100
    assert "on the resident runner" in (tmp_path / "work" / "run-1MB" / "run.log").read_text(encoding="utf-8")
    assert result.incremental.lines == sum(per_file.values())
    assert (
        result.full.headlines
        > 0
        < first.headlines - result.full.headlines
        < last.headlines - result.full.headlines
    )
    # the new file (article pages, few headlines) adds less than rematch_growth: matched incrementally
    assert result.full.matching == "full: first match"
    assert first.matching.startswith("incremental: 1 new files, ")
    # at 1 MB, the second megabyte brings more new headlines than a full match's 10%: all are matched again
    assert last.matching.startswith("full: ") and "exceed 10%" in last.matching
    assert set(STAGES.values()) <= set(result.full.stages)
    assert {"· language + topics", "· duplicates + stories"} <= set(result.full.stages)
    assert sum(result.full.stages[s] for s in STAGES.values()) <= result.full.seconds
    assert result.full.peak_rss_mb > 100
    # and the stage it peaked in (the run's process start or end are not steps)
    assert result.full.peak_rss_stage in {*STAGES.values(), "outside the steps"}
    # the Spark column: both dbt builds ran, and Spark's text analysis gave a row per result of a
    # full match (Spark matches all at once; the warehouse holds the incremental run's match, whose
    # story pairs at the score threshold drift from a full match's: on a copy, match all again)
    copy = tmp_path / "full_match.duckdb"
    shutil.copy(tmp_path / "work" / "run-1MB" / "warehouse.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        version = con.execute("select analysis_version from intermediate.matching_state").fetchall()[0][0]
        con.execute("create table kept_pairs as select * from intermediate.headline_pairs")
        con.execute("create table kept_matches as select * from intermediate.headline_matches")
        match_all(con, version, MatchPlan("full", "the bench test's reference", []))
        stored = sum(
            con.execute(f"select count(*) from intermediate.{table}").fetchall()[0][0] for table in KEYS
        )
        drift = match_drift(con, "kept", "intermediate")
    # the drift: only story pairs by shared terms, none of the duplicate pairs
    moved = drift["only in the current match"] + drift["only in the kept match"]
    assert {(relation, rule) for relation, rule, _ in moved} <= {("story", "shared_terms")}
    assert (
        drift["pairs (kept, current)"][0] > 0
        and drift["headlines in another story, another duplicate group"][1] == 0
    )
    assert result.spark is not None and result.spark.success
    assert result.spark.analysis_rows == stored
    # the whole job on Spark, from the warehouse as the last incremental run left it: the same headlines
    job = result.spark.job
    assert job is not None and job.success and job.headlines == result.incremental.headlines
    assert {"dbt marts", "gate marts", "text analysis"} <= set(job.stages)
    assert min(result.spark.dbt_duckdb_seconds, result.spark.dbt_spark_seconds) > 0
    assert result.spark.analysis_pipeline_seconds == result.full.stages["text analysis"]
    out, chart = tmp_path / "benchmarks.md", tmp_path / "img" / "benchmarks.png"
    write_report([result], out, chart)
    text = out.read_text(encoding="utf-8")
    assert f"| 1MB | {len(files)} | {result.full.lines} |" in text and "dbt marts" in text
    assert f"| {first.seconds:.1f} | {last.seconds:.1f} |" in text
    assert (
        f"| 1MB | {result.spark.parquet_export_seconds:.1f} | {result.spark.dbt_duckdb_seconds:.1f} |" in text
    )
    without_load = result.full.seconds - result.full.stages["load"]
    assert result.spark.pipeline_seconds_without_load == without_load
    assert f"| 1MB | {without_load:.1f} | {job.seconds:.1f} |" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads(out.with_suffix(".json").read_text())[0]
    assert saved["size"] == "1MB" and saved["spark"]["job"]["headlines"] == job.headlines
    assert [(run["seconds"], run["resident"]) for run in saved["incremental_runs"]] == [
        (first.seconds, False),
        (last.seconds, True),
    ]


def test_report_gives_the_incremental_runs_median_and_a_failed_run_as_failed(tmp_path: Path) -> None:
    """The incremental cell: the median and range of the runs, or the failed run where the harness stopped."""
    corpus = {"files": 1, "bytes": 1, "headlines": 1, "articles": 0}
    full = PipelineRun(60.0, 100.0, True, {"load": 1.0})
    runs = [PipelineRun(seconds, 100.0, True, {"load": 1.0}) for seconds in (31.0, 44.5, 33.0)]
    resident = [PipelineRun(s, 100.0, True, {"load": 1.0}, resident=True) for s in (25.0, 24.0, 29.5)]
    failed = PipelineRun(12.0, 100.0, False, {"load": 1.0})
    out, chart = tmp_path / "benchmarks.md", tmp_path / "benchmarks.png"
    alternated = [run for pair in zip(runs, resident, strict=True) for run in pair]
    write_report([SizeResult("1MB", corpus, 1.0, 10, full, alternated[-1], None, alternated)], out, chart)
    text = out.read_text(encoding="utf-8")
    assert "| 33.0 (median of 3: 31.0–44.5) | 25.0 (median of 3: 24.0–29.5) |" in text
    assert "| stage | 1MB | 1MB, resident |" in text
    write_report([SizeResult("1MB", corpus, 1.0, 10, full, runs[-1], None, runs)], out, chart)
    assert "| 33.0 (median of 3: 31.0–44.5) | — |" in out.read_text(encoding="utf-8")
    write_report([SizeResult("1MB", corpus, 1.0, 10, full, failed, None, [runs[0], failed])], out, chart)
    assert "| FAILED after 12 (run 2) |" in out.read_text(encoding="utf-8")
