"""The same dbt project on Spark: every mart built by dbt-spark (local[2], `method: session`) from the
Parquet copies a DuckDB run wrote equals the DuckDB mart, row for row and column for column.

Costs about a minute (a JVM, a Derby metastore and some sixty Spark statements); `make test`
installs Java 17 and pyspark where missing (`make scale`)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from assets.text_batches import (
    MATCH_OUTPUTS,
    MATCH_SCHEMA,
    OUTPUTS,
    RESULTS_SCHEMA,
    analyse_in_duckdb,
    match_features,
    split_matches,
    split_results,
)
from bench.corpus import generate
from orchestration.settings import DBT_PROJECT_DIR, Settings
from orchestration.spark_target import (
    MARTS,
    SparkBuild,
    analyse_in_process,
    build_on_spark,
    session_conf,
)
from tests.conftest import copy_sample, make_settings, run_pipeline


@dataclass(frozen=True)
class Built:
    settings: Settings
    spark: SparkBuild


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Sample files, a generated corpus (five languages, dated folders, repeats across files) and an
    undecodable file, through the DuckDB pipeline with Parquet copies on, then dbt on Spark."""
    root = tmp_path_factory.mktemp("spark")
    settings = make_settings(root)
    settings = Settings(**{**settings.__dict__, "parquet": str(root / "parquet")})
    copy_sample(settings.raw_dir)
    generate(settings.raw_dir / "corpus", 400_000, seed=11)
    (settings.raw_dir / "binary.txt").write_bytes(bytes(range(256)) * 8)
    result = run_pipeline(settings)
    assert result.success
    spark = build_on_spark(settings.parquet, root / "spark")
    assert spark.success, spark.log[-4000:]
    return Built(settings, spark)


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
    folder = built.spark.table_path("marts", mart)
    with duckdb.connect(str(built.settings.warehouse), read_only=True) as con:
        duck_columns = [r[0] for r in con.execute(f"describe marts.{mart}").fetchall()]
        spark_relation = f"read_parquet('{folder}/*.parquet')"
        spark_columns = [r[0] for r in con.execute(f"describe select * from {spark_relation}").fetchall()]
        assert spark_columns == duck_columns
        duck, spark = _rows(con, f"marts.{mart}", duck_columns), _rows(con, spark_relation, duck_columns)
    assert sum(duck.values()) > 0
    only_duck, only_spark = duck - spark, spark - duck
    assert not only_duck and not only_spark, (
        f"{mart}: {sum(only_duck.values())} rows only on DuckDB, {sum(only_spark.values())} only on Spark; "
        f"first of each: {str(next(iter(only_duck), None))[:400]} / {str(next(iter(only_spark), None))[:400]}"
    )


def test_the_spark_build_ran_every_data_test(built: Built) -> None:
    """dbt build on Spark ran the same seeds, models and data tests as on DuckDB, and all passed."""
    summary = next(line for line in built.spark.log.splitlines() if "Done. PASS=" in line)
    counts = dict(part.split("=") for part in summary.split("Done. ")[1].split())
    assert int(counts["ERROR"]) == 0 and int(counts["SKIP"]) == 0
    assert int(counts["PASS"]) >= 60  # every seed, model and data test of the project


def test_the_parquet_copy_is_written_once_per_file(built: Built, tmp_path: Path) -> None:
    """A rerun adds no Parquet partition, and a new file adds exactly its own."""
    lines = Path(built.settings.parquet) / "raw" / "lines"
    before = sorted(p.relative_to(lines) for p in lines.rglob("*.parquet"))
    with duckdb.connect(str(built.settings.warehouse), read_only=True) as con:
        loaded = con.execute("select count(*) from raw.files where status = 'loaded'").fetchall()[0][0]
    assert len(before) == loaded
    settings = Settings(**{**built.settings.__dict__, "warehouse": tmp_path / "warehouse.duckdb"})
    shutil.copy(built.settings.warehouse, settings.warehouse)
    assert run_pipeline(settings).success
    assert sorted(p.relative_to(lines) for p in lines.rglob("*.parquet")) == before
    (settings.raw_dir / "late.txt").write_text("Late headline about the harbour strike\n", encoding="utf-8")
    try:
        assert run_pipeline(settings).success
        after = sorted(p.relative_to(lines) for p in lines.rglob("*.parquet"))
    finally:
        (settings.raw_dir / "late.txt").unlink()
    assert len(after) == len(before) + 1 and set(before) <= set(after)


def _frame_rows(frame: pl.DataFrame) -> Counter:
    return Counter(tuple(_value(v) for v in row) for row in frame.rows())


def test_the_text_analysis_gives_the_same_results_on_spark_and_through_duckdb(built: Built) -> None:
    """assets/text_batches.analyse_texts, applied per file by Spark (applyInArrow over the Spark build's
    int_analysis_texts) and over DuckDB's Arrow batches, gives exactly what the Dagster asset stored;
    so does matching (match_features) on Spark's features and on the stored ones."""
    out = built.spark.spark_dir / "analysis_results"
    done = analyse_in_process(built.spark.spark_dir, out)
    assert done.returncode == 0, done.stderr[-4000:]
    on_spark = split_results(pq.read_table(out / "analysis", schema=RESULTS_SCHEMA))
    matched_on_spark = split_matches(pq.read_table(out / "matching", schema=MATCH_SCHEMA))
    with duckdb.connect(str(built.settings.warehouse), read_only=True) as con:
        through_duckdb = split_results(pa.concat_tables(analyse_in_duckdb(con)))
        stored = {
            table: pl.from_arrow(con.execute(f"select * from intermediate.{table}").to_arrow_table()).select(
                list(schema)
            )
            for table, schema in OUTPUTS.items()
        }
        features = pl.from_arrow(con.execute("select * from intermediate.headline_features").to_arrow_table())
        matched_through_duckdb = split_matches(match_features(features.to_arrow()))
        stored_matches = {
            table: pl.from_arrow(con.execute(f"select * from intermediate.{table}").to_arrow_table()).select(
                list(schema)
            )
            for table, schema in MATCH_OUTPUTS.items()
        }
    for table in OUTPUTS:
        assert stored[table].height > 0, table
        assert _frame_rows(on_spark[table]) == _frame_rows(stored[table]), table
        assert _frame_rows(through_duckdb[table]) == _frame_rows(stored[table]), table
    # duplicate groups, stories and linked pairs: Spark's matching equals the asset's
    assert stored_matches["headline_pairs"].filter(pl.col("relation") == "duplicate").height > 0
    for table in MATCH_OUTPUTS:
        assert _frame_rows(matched_on_spark[table]) == _frame_rows(stored_matches[table]), table
        assert _frame_rows(matched_through_duckdb[table]) == _frame_rows(stored_matches[table]), table


def test_the_spark_session_of_python_steps_is_the_dbt_profiles(tmp_path: Path) -> None:
    """Python steps on Spark share dbt's metastore and settings: session_conf mirrors profiles.yml."""
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["newsroom"]["outputs"]["spark"]
    assert set(session_conf(tmp_path)) == set(profile["server_side_parameters"])
