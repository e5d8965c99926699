"""Spark as the engine: the `spark` target of dbt_project/profiles.yml, the text analysis and the GE
suites on Spark, reading the Parquet copies of the raw layer (assets/parquet_store.py).

With `NEWSROOM_DBT_TARGET=spark` the Dagster job's dbt layers call `run_dbt_on_spark`, the analysis
asset `analyse_in_process` and the gates `gx_suites.run_suite_on_spark`. Each runs in a process of its
own: with `method: session` pyspark starts a JVM inside the process, a JVM cannot be restarted in a
process once stopped, and the embedded Derby metastore admits one JVM at a time. Spark's tables are
Parquet folders under `<spark_dir>/warehouse/`, so DuckDB reads them back (`parquet_views`: the marts
become views in the warehouse, for the report, the analyst copy and ad hoc SQL).

    make spark      # the whole job on the sample under data/spark/
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.dbt_runner import BatchedLog, DbtRun, NodeResult
from orchestration.project import manifest_json
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

#: Days per matching task on Spark (at least the date window; a headline within the window of a
#: block's start also goes to the block before, so the larger the blocks, the less is sent twice).
DAYS_PER_BLOCK = 7
#: dbt's line for a finished node ("12 of 40 OK created sql table model marts.headlines ...").
NODE_LINE = re.compile(r"\d+ of \d+ (OK|PASS|ERROR|FAIL|WARN|SKIP)")

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
        return table_folder(self.spark_dir, schema, table)


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


def require_java() -> None:
    """Spark's JVM needs Java 17 or newer on the PATH: say so before a step fails deep inside pyspark."""
    version = java_version()
    if version is None or version < 17:
        raise RuntimeError(
            f"Spark needs Java 17 or newer; found {version or 'none'} (`make scale` installs it)"
        )


def dbt_process(
    command: list[str], work_dir: Path, env: dict[str, str], on_line: Callable[[str], None] | None = None
) -> tuple[int, str, float]:
    """`dbt <command>` on this project in a process of its own, with its target, logs and scratch
    files under `work_dir`: exit code, output and seconds. `on_line` hears each output line as it comes."""
    dbt = Path(sys.executable).with_name("dbt")
    started = time.perf_counter()
    with subprocess.Popen(
        [str(dbt), "--no-use-colors", *command, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work_dir / "target"),
         "--log-path", str(work_dir / "logs")],
        env=env,
        cwd=work_dir,  # Spark and Derby write their scratch files in the working directory
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:  # fmt: skip
        output = []
        for line in proc.stdout or []:
            output.append(line)
            if on_line is not None:
                on_line(line.rstrip("\n"))
        code = proc.wait()
    return code, "".join(output), time.perf_counter() - started


def build_on_spark(parquet_root: str, spark_dir: Path, command: tuple[str, ...] = ("build",)) -> SparkBuild:
    """`dbt <command> --target spark` (seeds, every model and every data test), in a dbt process of its own."""
    require_java()
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


def spark_session(spark_dir: Path):
    """A Spark session on the spark target's metastore and warehouse (its Hive tables and views)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_conf(spark_dir).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def register_source_views(spark, parquet_root: str) -> list[str]:
    """What macros/sources.sql does at the start of a dbt run, for Python steps on Spark (the gates):
    each dbt source whose Parquet copy exists becomes a view over it. Returns the views made."""
    made = []
    for source in sorted(manifest_json()["sources"].values(), key=lambda s: s["unique_id"]):
        path = f"{parquet_root.rstrip('/')}/{source['schema']}/{source['name']}"
        if "://" not in path and not Path(path).exists():
            continue  # the analysis' Parquet before the first analysis: nothing reads it yet
        spark.sql(f"create database if not exists {source['schema']}")
        spark.sql(
            f"create or replace view {source['schema']}.{source['name']} as select * from parquet.`{path}`"
        )
        made.append(f"{source['schema']}.{source['name']}")
    return made


def analyse_on_spark(spark_dir: Path, out: str, days_per_block: int = DAYS_PER_BLOCK) -> dict[str, int]:
    """The Python text analysis on Spark: `analyse_texts` applied to each file's rows of the Spark
    build's intermediate.int_analysis_texts (groupBy file_id, applyInArrow), then matching per block
    of `days_per_block` days (`match_block`, one task per block, given the whole set's word counts)
    and groups over the pairs of all blocks (`group_batches`). Each analysis table is written to
    `out/<table>`: given the Parquet root's `intermediate` folder, that is where the marts' sources
    read them on Spark (macros/sources.sql). Run after the intermediate layer, in a process of its
    own (`analyse_in_process`). Returns the rows written per table."""
    from pyspark.sql import functions as F

    from assets import dedup
    from assets.matching import FEATURES_SCHEMA
    from assets.text_batches import (
        GROUPS_SCHEMA,
        OUTPUTS,
        PAIRS_SCHEMA,
        RESULTS_SCHEMA,
        analyse_texts,
        blocks_of,
        group_batches,
        match_block,
    )

    window = int(dedup.thresholds()["date_window_days"])
    if days_per_block < window:
        raise ValueError(f"a block must span at least the date window ({window} days)")
    spark = spark_session(spark_dir)
    scratch = str(spark_dir.resolve() / "scratch")
    counts: dict[str, int] = {}

    def write(name: str, rows) -> None:
        rows.write.mode("overwrite").parquet(f"{out}/{name}")
        counts[name] = spark.read.parquet(f"{out}/{name}").count()

    try:
        texts = spark.table("intermediate.int_analysis_texts")
        results = texts.groupBy("file_id").applyInArrow(analyse_texts, spark_ddl(RESULTS_SCHEMA))
        results.write.mode("overwrite").parquet(f"{scratch}/analysis")
        stored = spark.read.parquet(f"{scratch}/analysis")
        for name, columns in OUTPUTS.items():
            write(name, stored.filter(F.col("output") == name).select(*columns))

        features = spark.read.parquet(f"{out}/headline_features").select(*FEATURES_SCHEMA)
        headlines = features.count()
        words = features.select("day", F.explode("token_set").alias("token"))
        df = words.groupBy("token").agg(F.count("*").alias("df"))
        per_day = words.groupBy("token", "day").agg(F.count("*").alias("n"))
        near = per_day.select("token", F.col("day").alias("near_day"), "n")
        window_df = (
            per_day.select("token", "day")
            .join(near, "token")
            .where(F.abs(F.col("day") - F.col("near_day")) <= window)
            .groupBy("token", "day")
            .agg(F.sum("n").alias("window_df"))
        )
        block_ids = F.udf(lambda day: blocks_of(day, days_per_block, window), "array<int>")
        features.withColumn("block", F.explode(block_ids("day"))).write.mode("overwrite").parquet(
            f"{scratch}/blocked"
        )
        # read twice: a cogroup of two frames of one lineage is an ambiguous self-join to Spark
        blocked = spark.read.parquet(f"{scratch}/blocked")
        stats = (
            spark.read.parquet(f"{scratch}/blocked")
            .select("block", "day", F.explode("token_set").alias("token"))
            .distinct()
            .join(df, "token")
            .join(window_df, ["token", "day"])
        )
        pairs = (
            blocked.groupBy("block")
            .cogroup(stats.groupBy("block"))
            .applyInArrow(
                lambda block, block_stats: match_block(block, block_stats, headlines, days_per_block),
                spark_ddl(PAIRS_SCHEMA),
            )
        )
        pairs.write.mode("overwrite").parquet(f"{scratch}/pairs")
        pairs = spark.read.parquet(f"{scratch}/pairs")
        groups = pairs.coalesce(1).mapInArrow(group_batches, spark_ddl(GROUPS_SCHEMA))
        matches = features.join(groups, "headline_id", "left").select(
            "headline_id",
            "file_id",
            "line_no",
            "normalized_text",
            "duplicate_group_id",
            F.coalesce("story_id", "headline_id").alias("story_id"),
        )
        write("headline_matches", matches)
        write("headline_pairs", pairs)
        counts["matching_blocks"] = blocked.select("block").distinct().count()
        return counts
    finally:
        spark.stop()


def analyse_in_process(spark_dir: Path, out: str | Path) -> dict[str, int]:
    """`analyse_on_spark` in a process of its own (a JVM per process, as for dbt); raises with the
    process' output when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.spark_target", "analyse", str(out)],
        env={**spark_env("", spark_dir), "PYTHONPATH": str(PROJECT_ROOT)},
        cwd=spark_dir,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the text analysis on Spark failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_dbt_on_spark(
    command: list[str],
    spark_dir: Path,
    parquet_root: str,
    work_dir: Path,
    on_log: Callable[[str], None] | None = None,
) -> DbtRun:
    """`dbt <command> --target spark` in a process of its own, as a DbtRun (orchestration/dbt_runner.py):
    the nodes' results come from the run's run_results.json; `on_log` hears the nodes' log lines, a few
    seconds' worth at a time (`BatchedLog`)."""
    require_java()
    work_dir.mkdir(parents=True, exist_ok=True)
    results_file = work_dir / "target" / "run_results.json"
    results_file.unlink(missing_ok=True)

    batched = BatchedLog(on_log) if on_log is not None else None

    def node_line(line: str) -> None:  # each model and test as it finishes: the run log is never silent
        if batched is not None and NODE_LINE.search(line):
            batched(line.strip())

    try:
        code, log, _ = dbt_process(
            [*command, "--target", "spark"], work_dir, spark_env(parquet_root, spark_dir), node_line
        )
    finally:
        if batched is not None:
            batched.flush()
    attached = {uid: node.get("attached_node") for uid, node in manifest_json()["nodes"].items()}
    results = [
        NodeResult(
            unique_id=item["unique_id"],
            resource_type=item["unique_id"].split(".")[0],
            name=item["unique_id"].split(".")[2],
            status=item["status"],
            message=item.get("message"),
            failures=item.get("failures"),
            seconds=float(item.get("execution_time") or 0),
            attached_node=attached.get(item["unique_id"]),
        )
        for item in (json.loads(results_file.read_text())["results"] if results_file.exists() else [])
    ]
    return DbtRun.of(
        code == 0, results, "\n".join(line for line in log.splitlines() if " WARN " not in line)[-2000:]
    )


def table_folder(spark_dir: Path, schema: str, table: str) -> Path:
    """The Parquet folder of a table the spark target built (its Hive warehouse layout)."""
    return spark_dir / "warehouse" / f"{schema}.db" / table


def parquet_views(con: duckdb.DuckDBPyConnection, spark_dir: Path, tables: list[str]) -> list[str]:
    """Make each `schema.table` the spark target built (views have no folder) a DuckDB view over its
    Parquet folder in `con`; returns those made. A table already in `con` is replaced by the view."""
    made = []
    for table in tables:
        schema, name = table.split(".")
        folder = table_folder(spark_dir, schema, name)
        if not any(folder.glob("*.parquet")):
            continue
        con.execute(f"create schema if not exists {schema}")
        kind = con.execute(
            "select table_type from information_schema.tables where table_schema = ? and table_name = ? "
            "and table_catalog = current_database()",
            [schema, name],
        ).fetchall()
        if kind and kind[0][0] == "BASE TABLE":
            con.execute(f"drop table {table}")
        con.execute(f"create or replace view {table} as select * from read_parquet('{folder}/*.parquet')")
        made.append(table)
    return made


def main() -> None:
    """`python -m orchestration.spark_target analyse OUT`: what `analyse_in_process` runs."""
    if sys.argv[1:2] != ["analyse"] or len(sys.argv) != 3:
        sys.exit("usage: python -m orchestration.spark_target analyse OUT")
    counts = analyse_on_spark(Path(os.environ["NEWSROOM_SPARK_DIR"]), sys.argv[2])
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
