"""The dbt project on Spark: the `spark` target of dbt_project/profiles.yml, reading the Parquet copies
of the raw layer and of the text analysis (assets/parquet_store.py) instead of the DuckDB file.

dbt runs in its own process here, not in-process as for DuckDB (orchestration/dbt_runner.py): with
`method: session` pyspark starts a JVM inside the dbt process, and a JVM cannot be restarted in a
process once stopped. The Spark tables are Parquet folders under `<spark_dir>/warehouse/`, so their
rows can be read back by DuckDB (tests/test_spark.py compares them with the DuckDB marts).

    NEWSROOM_PARQUET=data/parquet make run     # DuckDB pipeline, writing the Parquet copies
    make spark                                 # the same marts on Spark (local[2]) under data/spark/
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

MARTS = (
    "line_roles",
    "headlines",
    "articles",
    "article_paragraphs",
    "stories",
    "topic_counts",
    "file_quality",
    "headline_pairs",
)


@dataclass(frozen=True)
class SparkBuild:
    """The outcome of one `dbt build --target spark`."""

    returncode: int
    seconds: float
    log: str
    spark_dir: Path

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def table_path(self, schema: str, table: str) -> Path:
        """The Parquet folder of a table Spark built (its Hive warehouse layout: `<schema>.db/<table>`)."""
        return self.spark_dir / "warehouse" / f"{schema}.db" / table


def java_version() -> int | None:
    """The major version of the `java` on PATH, or None when there is none."""
    java = shutil.which("java")
    if java is None:
        return None
    output = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    try:
        version = output.split('"')[1]
    except IndexError:
        return None
    major = version.split(".")[0]
    return int(major) if major.isdigit() else None


def spark_env(parquet_root: str, spark_dir: Path) -> dict[str, str]:
    """The environment profiles.yml's spark target reads: where the sources are, where Spark keeps its
    tables and metastore; loopback only, no telemetry."""
    return {
        **os.environ,
        "NEWSROOM_DBT_TARGET": "spark",
        "NEWSROOM_PARQUET": parquet_root,
        "NEWSROOM_SPARK_DIR": str(spark_dir.resolve()),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "DO_NOT_TRACK": "1",
        "PYSPARK_PYTHON": sys.executable,
    }


def dbt_process(command: list[str], work_dir: Path, env: dict[str, str]) -> tuple[int, str, float]:
    """`dbt <command>` on this project in a process of its own, with its target, logs and scratch
    files under `work_dir`: exit code, output and seconds."""
    dbt = Path(sys.executable).with_name("dbt")
    started = time.perf_counter()
    done = subprocess.run(
        [str(dbt), "--no-use-colors", *command, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work_dir / "target"),
         "--log-path", str(work_dir / "logs")],
        env=env,
        cwd=work_dir,  # Spark and Derby write their scratch files in the working directory
        capture_output=True,
        text=True,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.perf_counter() - started


def build_on_spark(parquet_root: str, spark_dir: Path, command: tuple[str, ...] = ("build",)) -> SparkBuild:
    """`dbt <command> --target spark` (seeds, every model and every data test), in a dbt process of its own."""
    version = java_version()
    if version is None or version < 17:
        raise RuntimeError(
            f"Spark needs Java 17 or newer; found {version or 'none'} (`make scale` installs it)"
        )
    spark_dir.mkdir(parents=True, exist_ok=True)
    code, log, seconds = dbt_process(list(command), spark_dir, spark_env(parquet_root, spark_dir))
    return SparkBuild(code, seconds, log, spark_dir)


def session_conf(spark_dir: Path) -> dict[str, str]:
    """The Spark session of the spark target (profiles.yml's server_side_parameters, which a test
    holds this to), for Python steps that run on Spark beside dbt and share its metastore."""
    spark_dir = spark_dir.resolve()
    return {
        "spark.master": os.environ.get("NEWSROOM_SPARK_MASTER", "local[2]"),
        "spark.driver.memory": os.environ.get("NEWSROOM_SPARK_MEMORY", "2g"),
        "spark.sql.warehouse.dir": f"{spark_dir}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": os.environ.get("NEWSROOM_SPARK_PARTITIONS", "4"),
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.ui.enabled": "false",
    }


def _spark_type(dtype: pa.DataType) -> str:
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        return f"array<{_spark_type(dtype.value_type)}>"
    names = {pa.string(): "string", pa.large_string(): "string", pa.int32(): "int", pa.int64(): "bigint",
             pa.float64(): "double", pa.bool_(): "boolean"}  # fmt: skip
    return names[dtype]


def spark_ddl(schema: pa.Schema) -> str:
    """An Arrow schema as a Spark DDL string (what applyInArrow returns)."""
    return ", ".join(f"{field.name} {_spark_type(field.type)}" for field in schema)


def analyse_on_spark(spark_dir: Path, out: Path) -> tuple[int, int]:
    """The Python text analysis on Spark: `analyse_texts` applied to each file's rows of the Spark
    build's intermediate.int_analysis_texts (groupBy file_id, applyInArrow), written to
    `out/analysis`; then matching over all headline features (one task: `match_batches`), written to
    `out/matching`. Run after `build_on_spark`, in a process of its own (`python -m
    orchestration.spark_target analyse OUT`). Returns the numbers of analysis and matching rows."""
    from pyspark.sql import SparkSession

    from assets.matching import FEATURES_SCHEMA
    from assets.text_batches import MATCH_SCHEMA, RESULTS_SCHEMA, analyse_texts, match_batches

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_conf(spark_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        texts = spark.table("intermediate.int_analysis_texts")
        results = texts.groupBy("file_id").applyInArrow(analyse_texts, spark_ddl(RESULTS_SCHEMA))
        results.write.mode("overwrite").parquet(str(out / "analysis"))
        stored = spark.read.parquet(str(out / "analysis"))
        features = stored.filter("output = 'headline_features'").select(*FEATURES_SCHEMA)
        matched = features.coalesce(1).mapInArrow(match_batches, spark_ddl(MATCH_SCHEMA))
        matched.write.mode("overwrite").parquet(str(out / "matching"))
        return stored.count(), spark.read.parquet(str(out / "matching")).count()
    finally:
        spark.stop()


def analyse_in_process(spark_dir: Path, out: Path) -> subprocess.CompletedProcess:
    """`analyse_on_spark` in a process of its own (a JVM per process, as for dbt)."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.spark_target", "analyse", str(out)],
        env={**spark_env("", spark_dir), "PYTHONPATH": str(PROJECT_ROOT)},
        cwd=spark_dir,
        capture_output=True,
        text=True,
    )


def main() -> None:
    if sys.argv[1:2] == ["analyse"]:
        spark_dir = Path(os.environ["NEWSROOM_SPARK_DIR"])
        analysed, matched = analyse_on_spark(spark_dir, Path(sys.argv[2]))
        print(f"{analysed} analysis rows, {matched} matching rows")
        return
    settings = Settings.from_env()
    if not settings.parquet:
        sys.exit("set NEWSROOM_PARQUET to the folder a run wrote its Parquet copies to (see `make spark`)")
    spark_dir = PROJECT_ROOT / "data" / "spark"
    build = build_on_spark(settings.parquet, spark_dir)
    tail = "\n".join(line for line in build.log.splitlines() if " WARN " not in line)[-3000:]
    print(tail)
    print(f"\nSpark build {'succeeded' if build.success else 'FAILED'} in {build.seconds:.1f} s")
    print(f"marts as Parquet under {build.table_path('marts', '')}")
    sys.exit(build.returncode)


if __name__ == "__main__":
    main()
