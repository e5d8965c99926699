"""The whole graph on both targets: the Dagster job run on DuckDB and, from the same raw files, on
Spark (dbt-spark on local[2] with `method: session`, the text analysis through applyInArrow, the GE
gates through GE's Spark data source). Every mart equals, row for row and column for column.

Costs about five minutes: each Spark step is a process of its own with a JVM and a Derby metastore.
`make test` installs Java 17 and pyspark where missing (`make scale`)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from assets.text_batches import (
    MATCH_OUTPUTS,
    OUTPUTS,
    analyse_in_duckdb,
    match_features,
    split_results,
)
from bench.corpus import generate
from orchestration.gx_suites import load_suite_definition, run_suite_on_spark, suite_tables
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.spark_target import MARTS, session_conf, table_folder
from tests.conftest import copy_sample, copy_warehouse, make_settings, query, run_pipeline

SPARK_GATES = ("staging", "intermediate", "analysis", "marts")


@dataclass(frozen=True)
class Built:
    duck: Settings
    spark: Settings
    spark_run: dg.ExecuteInProcessResult

    def spark_table(self, schema: str, table: str) -> str:
        """A table the spark target built, as a DuckDB relation over its Parquet."""
        return f"read_parquet('{table_folder(self.spark.spark_path, schema, table)}/*.parquet')"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Sample files, a generated corpus (five languages, dated folders, repeats across files) and an
    undecodable file, through the job on the duckdb target (Parquet copies on) and on the spark target."""
    root = tmp_path_factory.mktemp("spark")
    raw = root / "raw"
    copy_sample(make_settings(root).raw_dir)
    generate(raw / "corpus", 400_000, seed=11)
    (raw / "binary.txt").write_bytes(bytes(range(256)) * 8)
    duck = make_settings(root / "duck")
    duck = Settings(**{**duck.__dict__, "raw_dir": raw, "parquet": str(root / "duck" / "parquet")})
    assert run_pipeline(duck).success
    spark = make_settings(root / "on_spark")
    spark = Settings(
        **{
            **spark.__dict__,
            "raw_dir": raw,
            "parquet": str(root / "on_spark" / "parquet"),
            "dbt_target": "spark",
        }
    )
    # the spark run starts from the DuckDB run's raw layer, so load times (stories.first_seen, …) agree
    copy_warehouse(duck.warehouse, spark.warehouse)
    spark_run = run_pipeline(spark)
    failures = [e.message for e in spark_run.all_events if e.is_failure]
    assert spark_run.success, failures[:3]
    return Built(duck, spark, spark_run)


def _value(value: object) -> object:
    """One engine-neutral form per value: floats to 9 places, lists as tuples."""
    if isinstance(value, float | Decimal):
        return round(float(value), 9)
    if isinstance(value, list | tuple):
        return tuple(_value(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _rows(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> Counter:
    select = ", ".join(f'"{c}"' for c in columns)
    return Counter(
        tuple(_value(v) for v in row) for row in con.execute(f"select {select} from {relation}").fetchall()
    )


@pytest.mark.parametrize("mart", MARTS)
def test_every_mart_is_the_same_on_spark_and_duckdb(built: Built, mart: str) -> None:
    with duckdb.connect(str(built.duck.warehouse), read_only=True) as con:
        duck_columns = [r[0] for r in con.execute(f"describe marts.{mart}").fetchall()]
        spark_relation = built.spark_table("marts", mart)
        spark_columns = [r[0] for r in con.execute(f"describe select * from {spark_relation}").fetchall()]
        assert spark_columns == duck_columns
        # matched_at, labelled_at: when each run's match ran, which differs between the two runs
        compared = [c for c in duck_columns if c not in ("matched_at", "labelled_at")]
        duck, spark = _rows(con, f"marts.{mart}", compared), _rows(con, spark_relation, compared)
    assert sum(duck.values()) > 0
    only_duck, only_spark = duck - spark, spark - duck
    assert not only_duck and not only_spark, (
        f"{mart}: {sum(only_duck.values())} rows only on DuckDB, {sum(only_spark.values())} only on Spark; "
        f"first of each: {str(next(iter(only_duck), None))[:400]} / {str(next(iter(only_spark), None))[:400]}"
    )


def test_analysts_read_the_spark_marts(built: Built) -> None:
    """The spark run's marts are views over Spark's Parquet in its DuckDB file, and its published
    analyst copy holds them as tables, the same rows as the DuckDB run's copy."""
    for mart in ("headlines", "stories", "topic_counts"):
        kind = query(built.spark, "select table_type from information_schema.tables where table_schema = 'marts' "
                     "and table_name = ?", [mart])  # fmt: skip
        assert kind == [("VIEW",)]
        with duckdb.connect(str(built.spark.analytics_path), read_only=True) as con:
            published = con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
        with duckdb.connect(str(built.duck.analytics_path), read_only=True) as con:
            assert published == con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0] > 0


def test_every_data_test_and_gate_ran_on_spark(built: Built) -> None:
    """dbt's data tests ran on Spark as asset checks, and every GE suite after raw validated the Spark
    tables: one stored outcome per expectation, all passing, with the Spark twin of a DuckDB-only query."""
    checks = [
        e.asset_check_evaluation_data
        for e in built.spark_run.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    dbt_tests = [c for c in checks if not c.check_name.startswith("ge_")]
    assert len(dbt_tests) >= 48 and all(c.passed for c in dbt_tests)
    run_id = built.spark_run.run_id
    for stage in SPARK_GATES:
        stored = query(built.spark, "select table_name, success, kwargs from quality.validation_results "
                       "where run_id = ? and stage = ?", [run_id, stage])  # fmt: skip
        expected = load_suite_definition(stage)["expectations"]
        assert len(stored) == len(expected) and all(success for _, success, _ in stored), stage
        assert {table for table, _, _ in stored} == set(suite_tables(stage))
    twins = query(built.spark, "select kwargs from quality.validation_results where run_id = ? and "
                  "table_name = 'intermediate.headline_topics' and kwargs like '%size(topic_terms)%'", [run_id])  # fmt: skip
    assert len(twins) == 1


def test_a_spark_gate_fails_with_examples_from_spark(built: Built) -> None:
    """A suite on Spark can fail: an expectation the Spark marts break fails, with their rows as examples."""
    definition = load_suite_definition("marts")
    strict = {
        "type": "unexpected_rows_expectation",
        "kwargs": {"unexpected_rows_query": "select headline_id, text from {batch} where length(text) > 20"},
        "meta": {"table": "marts.headlines", "description": "Headlines are short (they are not)."},
    }
    in_set = {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "role", "value_set": ["related_headline"]},
        "meta": {"table": "marts.headlines", "description": "Only related headlines (not so)."},
    }
    definition = {**definition, "expectations": [*definition["expectations"], strict, in_set]}
    outcomes = run_suite_on_spark(
        "marts", built.spark.spark_path, built.spark.parquet, ["marts.headlines"], definition
    )
    failed = {o.expectation: o for o in outcomes if not o.success}
    assert set(failed) == {"unexpected_rows_expectation", "expect_column_values_to_be_in_set"}
    long_rows = failed["unexpected_rows_expectation"]
    assert long_rows.error is None and long_rows.examples
    assert all(len(row["text"]) > 20 for row in long_rows.examples)
    assert "headline" in failed["expect_column_values_to_be_in_set"].examples


def test_the_parquet_copy_is_written_once_per_file(built: Built, tmp_path: Path) -> None:
    """A rerun adds no Parquet partition, and a new file adds exactly its own."""
    lines = Path(built.duck.parquet) / "raw" / "lines"
    before = sorted(p.relative_to(lines) for p in lines.rglob("*.parquet"))
    loaded = query(built.duck, "select count(*) from raw.files where status = 'loaded'")[0][0]
    assert len(before) == loaded
    raw = tmp_path / "raw"
    shutil.copytree(built.duck.raw_dir, raw)
    settings = Settings(**{**built.duck.__dict__, "warehouse": tmp_path / "warehouse.duckdb", "raw_dir": raw})
    shutil.copy(built.duck.warehouse, settings.warehouse)
    assert run_pipeline(settings).success
    assert sorted(p.relative_to(lines) for p in lines.rglob("*.parquet")) == before
    (raw / "late.txt").write_text("Late headline about the harbour strike\n", encoding="utf-8")
    assert run_pipeline(settings).success
    after = sorted(p.relative_to(lines) for p in lines.rglob("*.parquet"))
    assert len(after) == len(before) + 1 and set(before) <= set(after)


def _frame_rows(frame: pl.DataFrame) -> Counter:
    return Counter(tuple(_value(v) for v in row) for row in frame.rows())


def test_the_text_analysis_gives_the_same_results_on_spark_and_through_duckdb(built: Built) -> None:
    """assets/text_batches.analyse_texts, applied per file by Spark (applyInArrow over the Spark build's
    int_analysis_texts) in the spark run and over DuckDB's Arrow batches, gives exactly what the Dagster
    asset stored on DuckDB; so does matching (match_features) on Spark and on the stored features."""
    folder = Path(built.spark.parquet) / "intermediate"
    on_spark = {table: pl.from_arrow(pq.read_table(folder / table)) for table in [*OUTPUTS, *MATCH_OUTPUTS]}
    with duckdb.connect(str(built.duck.warehouse), read_only=True) as con:
        through_duckdb = split_results(pa.concat_tables(analyse_in_duckdb(con)))
        stored = {
            table: pl.from_arrow(con.execute(f"select * from intermediate.{table}").to_arrow_table()).select(
                list(schema)
            )
            for table, schema in (OUTPUTS | MATCH_OUTPUTS).items()
        }
        features = pl.from_arrow(con.execute("select * from intermediate.headline_features").to_arrow_table())
        matched_through_duckdb = match_features(features.to_arrow())
    for table in OUTPUTS:
        assert stored[table].height > 0, table
        assert list(on_spark[table].columns) == list(OUTPUTS[table]), table
        assert _frame_rows(on_spark[table]) == _frame_rows(stored[table]), table
        assert _frame_rows(through_duckdb[table]) == _frame_rows(stored[table]), table
    # duplicate groups, stories and linked pairs: Spark's matching equals the asset's
    assert stored["headline_pairs"].filter(pl.col("relation") == "duplicate").height > 0
    for table in MATCH_OUTPUTS:
        assert _frame_rows(on_spark[table]) == _frame_rows(stored[table]), table
        assert _frame_rows(matched_through_duckdb[table]) == _frame_rows(stored[table]), table


def test_the_spark_session_of_python_steps_is_the_dbt_profiles(tmp_path: Path) -> None:
    """Python steps on Spark share dbt's metastore and settings: session_conf mirrors profiles.yml."""
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["newsroom"]["outputs"]["spark"]
    assert set(session_conf(tmp_path)) == set(profile["server_side_parameters"])
