"""Run the Great Expectations suites in `expectations/` against the DuckDB warehouse, or on Spark.

Route chosen: GE's SQL datasource (SQLAlchemy + duckdb-engine), so expectations run as SQL inside
DuckDB and no table is pulled into Python memory (measured: 1M rows, 418 MB RSS vs 871 MB for the
pandas route). GE 1.x keeps a persisted connection only for the dialects it lists, and without one
every metric fails on DuckDB ("list index out of range" / aborted transaction), so
`register_duckdb_dialect()` adds DuckDB to that list. Tables are read through query assets
(`select * from schema.table`) because GE's column reflection drops the schema on DuckDB.
`tests/test_gx_suites.py` proves both facts on a real DuckDB file, so an upgrade of GE that changes
them fails loudly.

On the spark target the same suites run through GE's Spark data source on the Spark tables
(`run_suite_on_spark`, in a Spark process of its own); an expectation whose SQL differs on Spark
carries its Spark twin in `meta.spark_query`.

A suite file is GE's own ExpectationSuite JSON; each expectation names the table it runs on in
`meta.table`. `import great_expectations` costs ~3 s, so it is imported only inside these functions.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import types
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from orchestration.settings import DEFAULT_DUCKDB_MEMORY, EXPECTATIONS_DIR, PROJECT_ROOT


@dataclass(frozen=True)
class ExpectationOutcome:
    stage: str
    table: str
    expectation: str
    description: str
    kwargs: dict[str, Any]
    success: bool
    observed_value: Any
    unexpected_count: int | None
    examples: list[Any]
    error: str | None


class _DialectName(str):
    """GE compares `dialect.value` with the URL's driver name; a str with .value fits both uses."""

    @property
    def value(self) -> str:
        return str(self)


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is asked for, then imports it and takes its
    contents. It has its own `__file__` and `__spec__`, so a scan of `sys.modules` (dbt's behaviour
    flags call `inspect.getmodule`, which checks every module's `__file__`) does not load it; the
    standard library's `importlib.util.LazyLoader` loads on any attribute, those included."""

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        module = importlib.import_module(self.__name__)  # also sets it on its package
        self.__dict__.update(module.__dict__)
        return getattr(module, name)


#: Modules `import great_expectations` imports only for expectations our suites do not use (KL
#: divergence, KS tests): 1.0 s of its 3.7 s, paid at every run's first gate. (altair, for their
#: charts, is imported too, but most of its 0.5 s is modules GE needs anyway: measured no gain.)
DEFERRED_BY_GE = ("scipy.stats",)


def defer_unused_ge_imports() -> None:
    """Let `import great_expectations` skip DEFERRED_BY_GE until something uses them. A stand-in
    (`_Deferred`) is set in `sys.modules` and on its package, so GE's `from scipy import stats` binds
    it without running it. Does nothing once GE is imported, nor for a module already imported."""
    if "great_expectations" in sys.modules:
        return
    for name in DEFERRED_BY_GE:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # imports its package, if any
        if spec is None:
            continue
        stand_in = _Deferred(name)
        stand_in.__file__, stand_in.__spec__, stand_in.__package__ = spec.origin, spec, name
        sys.modules[name] = stand_in
        package, _, attribute = name.rpartition(".")
        if package:
            setattr(sys.modules[package], attribute, stand_in)  # the package's own lookup would import it


def register_duckdb_dialect() -> None:
    defer_unused_ge_imports()
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

    dialects = engine_module._PERSISTED_CONNECTION_DIALECTS
    if "duckdb" not in [getattr(d, "value", d) for d in dialects]:
        engine_module._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DialectName("duckdb"))


def suite_path(stage: str) -> Path:
    return EXPECTATIONS_DIR / f"{stage}.json"


def load_suite_definition(stage: str) -> dict[str, Any]:
    return json.loads(suite_path(stage).read_text(encoding="utf-8"))


def suite_tables(stage: str, definition: dict[str, Any] | None = None) -> list[str]:
    """Tables a stage's suite validates, in the order they first appear."""
    tables: list[str] = []
    for exp in (definition or load_suite_definition(stage))["expectations"]:
        table = exp["meta"]["table"]
        if table not in tables:
            tables.append(table)
    return tables


def per_file_tables(definition: dict[str, Any]) -> set[str]:
    """The tables a suite lists in `meta.per_file_tables`: those a gate may validate file by file."""
    return set(definition.get("meta", {}).get("per_file_tables", []))


def matched_tables(definition: dict[str, Any]) -> set[str]:
    """The tables a suite lists in `meta.matched_tables`: rows stamped `matched_at` by the match they
    reflect, rewritten whenever a later match changes them; a gate may validate the rows of the
    matches since its last pass."""
    return set(definition.get("meta", {}).get("matched_tables", []))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


WHOLE = "#whole"  # a batch's name suffix: the whole table, where the others hold only the scope's files


def _by_table(
    definition: dict[str, Any], engine: str, scope: str | None = None, matched: set[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The suite's expectations per batch, each tagged with its position (GE does not return results
    in suite order); on Spark, a query with a `meta.spark_query` twin runs that twin instead.

    With a `scope` (SQL giving file ids), the tables the suite lists in `meta.per_file_tables` are
    validated on the scope's files only: their batch holds those files' rows, and every per-file
    table an expectation's query names is narrowed alike, so checks across tables compare the same
    files. An expectation marked `meta.whole_table` (one that compares rows of different files, such
    as a row count or a group spanning files) still sees the whole table, in batch `table#whole`.
    The `matched` tables (validated on recent matches' rows) split their expectations the same way."""
    per_file = per_file_tables(definition) if scope else set()
    matched = matched or set()
    by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for exp in definition["expectations"]:
        meta = exp.get("meta", {})
        kwargs = exp["kwargs"]
        if engine == "spark" and "spark_query" in meta:
            kwargs = {**kwargs, "unexpected_rows_query": meta["spark_query"]}
        table = meta["table"]
        if table in per_file | matched and meta.get("whole_table"):
            table += WHOLE
        elif table in per_file and "unexpected_rows_query" in kwargs:
            kwargs = {
                **kwargs,
                "unexpected_rows_query": _narrowed(kwargs["unexpected_rows_query"], per_file, scope),
            }
        by_table[table].append({**exp, "kwargs": kwargs, "meta": {**meta, "position": len(by_table[table])}})
    return by_table


def _narrowed(query: str, tables: set[str], scope: str | None) -> str:
    """`query` with each of `tables` it names replaced by that table's rows of the scope's files."""
    for table in sorted(tables, key=len, reverse=True):
        query = re.sub(
            rf"(?<![\w.]){re.escape(table)}(?![\w])",
            f"(select * from {table} where file_id in ({scope}))",
            query,
        )
    return query


def batch_query(
    batch: str,
    per_file: bool,
    scope: str | None,
    matched: bool = False,
    matched_since: dt.datetime | None = None,
) -> str:
    """The rows a batch validates: a whole table, a per-file table's rows of the scope's files, or a
    matched table's rows stamped after `matched_since`."""
    table = batch.removesuffix(WHOLE)
    if batch.endswith(WHOLE):
        return f"select * from {table}"
    if scope and per_file:
        return f"select * from {table} where file_id in ({scope})"
    if matched_since and matched:
        return f"select * from {table} where matched_at > cast('{matched_since.isoformat(sep=' ')}' as timestamp)"
    return f"select * from {table}"


def _validate(
    stage: str,
    by_table: dict[str, list[dict[str, Any]]],
    tables: list[str],
    get_batch: Callable[[str], Any],
    examples_of: Callable[[Any, str, str], list[dict[str, Any]]],
) -> list[ExpectationOutcome]:
    """Validate each table's expectations on the batch `get_batch` gives; one outcome per expectation."""
    defer_unused_ge_imports()
    import great_expectations as gx

    outcomes: list[ExpectationOutcome] = []
    for batch_name in tables:
        expectations, table = by_table[batch_name], batch_name.removesuffix(WHOLE)
        suite = gx.ExpectationSuite(name=f"{stage}.{batch_name}", expectations=expectations)
        batch = get_batch(batch_name)
        result = batch.validate(suite)
        ordered = sorted(result.results, key=lambda r: r.expectation_config.meta["position"])
        for res, spec in zip(ordered, expectations, strict=True):
            info = res.result or {}
            error = None
            if res.exception_info and res.exception_info.get("raised_exception"):
                error = str(res.exception_info.get("exception_message"))
            elif not info and not res.success:
                error = _first_exception(res.exception_info)
            examples = (info.get("details") or {}).get("unexpected_rows") or info.get(
                "partial_unexpected_list"
            )
            if not res.success and not examples and spec["type"] == "unexpected_rows_expectation":
                examples = examples_of(batch, table, spec["kwargs"]["unexpected_rows_query"])
            outcomes.append(
                ExpectationOutcome(
                    stage=stage,
                    table=table,
                    expectation=spec["type"],
                    description=spec.get("meta", {}).get("description", ""),
                    kwargs={k: v for k, v in spec["kwargs"].items() if k != "batch_id"},
                    success=bool(res.success),
                    observed_value=_jsonable(info.get("observed_value", info.get("unexpected_percent"))),
                    unexpected_count=info.get("unexpected_count"),
                    examples=_jsonable(examples or [])[:10],
                    error=error,
                )
            )
    return outcomes


def _context() -> Any:
    defer_unused_ge_imports()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def run_suite(
    stage: str,
    database: Path | str,
    tables: list[str] | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY,
    definition: dict[str, Any] | None = None,
    scope: str | None = None,
    matched_since: dt.datetime | None = None,
) -> list[ExpectationOutcome]:
    """Validate `tables` (default: all of the suite's) in the DuckDB file; one outcome per expectation.
    `definition` replaces the suite file (tests); `scope`, SQL giving file ids, narrows the suite's
    per-file tables to those files (`_by_table`); `matched_since` narrows its matched tables to the
    rows stamped after it."""
    register_duckdb_dialect()
    definition = definition or load_suite_definition(stage)
    per_file = per_file_tables(definition)
    matched = matched_tables(definition) if matched_since else set()
    by_table = _by_table(definition, "duckdb", scope, matched)
    datasource = _context().data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{Path(database).resolve()}",
        # the same cap as every other writer of the file (duckdb-engine hands `config` to duckdb.connect)
        kwargs={"connect_args": {"config": {"memory_limit": memory_limit}}},
    )
    engines: list[Any] = []

    def get_batch(batch_name: str) -> Any:
        base = batch_name.removesuffix(WHOLE)
        query = batch_query(batch_name, base in per_file, scope, base in matched, matched_since)
        asset = datasource.add_query_asset(name=batch_name, query=query)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        engines.append(batch.data.execution_engine)
        return batch

    chosen = [b for b in by_table if b.removesuffix(WHOLE) in (tables or suite_tables(stage, definition))]
    try:
        return _validate(stage, by_table, chosen, get_batch, _unexpected_row_examples)
    finally:
        # Release the DuckDB file: the persisted connection would otherwise keep its lock.
        for engine in engines:
            connection = getattr(engine, "_connection", None)
            if connection is not None:
                connection.close()
            engine.close()
        datasource.get_engine().dispose()


def run_suite_on_spark(
    stage: str,
    spark_dir: Path,
    parquet_root: str,
    tables: list[str] | None = None,
    definition: dict[str, Any] | None = None,
) -> list[ExpectationOutcome]:
    """The same suite on the spark target's tables, through GE's Spark data source, so the checks run
    where the data is (Spark SQL, no table pulled into Python). In a process of its own, as every
    Spark step (a JVM per process; the embedded metastore admits one at a time)."""
    from orchestration.spark_target import spark_env

    with tempfile.TemporaryDirectory() as scratch:
        suite_file, out_file = Path(scratch) / "suite.json", Path(scratch) / "outcomes.json"
        suite_file.write_text(json.dumps(definition or load_suite_definition(stage)), encoding="utf-8")
        spark_dir.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "orchestration.gx_suites",
                stage,
                str(suite_file),
                str(out_file),
                *(tables or []),
            ],
            env={**spark_env(parquet_root, spark_dir), "PYTHONPATH": str(PROJECT_ROOT)},
            cwd=spark_dir,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not out_file.exists():
            raise RuntimeError(f"the {stage} suite could not run on Spark:\n{done.stderr[-4000:]}")
        return [ExpectationOutcome(**o) for o in json.loads(out_file.read_text(encoding="utf-8"))]


def _run_on_spark(stage: str, definition: dict[str, Any], tables: list[str]) -> list[ExpectationOutcome]:
    """In the Spark process: register the sources whose Parquet exists, then validate Spark tables."""
    from orchestration.spark_target import register_source_views, spark_session

    spark = spark_session(Path(os.environ["NEWSROOM_SPARK_DIR"]))
    try:
        register_source_views(spark, os.environ["NEWSROOM_PARQUET"])
        by_table = _by_table(definition, "spark")
        # persist=False: GE would otherwise cache each whole table in Spark's memory
        datasource = _context().data_sources.add_spark(name="warehouse", persist=False)

        def get_batch(table: str) -> Any:
            asset = datasource.add_dataframe_asset(name=table)
            definition = asset.add_batch_definition_whole_dataframe("all")
            return definition.get_batch(batch_parameters={"dataframe": spark.table(table)})

        def examples_of(batch: Any, table: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
            try:
                sql = query.replace("{batch}", table).replace("{{", "{").replace("}}", "}")
                return [row.asDict() for row in spark.sql(sql).limit(limit).collect()]
            except Exception as exc:  # a courtesy, as on DuckDB
                return [{"examples_unavailable": str(exc)[:200]}]

        return _validate(stage, by_table, tables or list(by_table), get_batch, examples_of)
    finally:
        spark.stop()


def _unexpected_row_examples(batch: Any, table: str, query: str, limit: int = 5) -> list[dict[str, Any]]:
    """GE returns the offending rows only in its COMPLETE format (all of them); fetch a few instead."""
    import sqlalchemy as sa

    sql = query.replace("{batch}", f"(select * from {table})").replace("{{", "{").replace("}}", "}")
    try:
        with batch.data.execution_engine.engine.connect() as connection:
            rows = connection.execute(sa.text(f"select * from ({sql}) as unexpected limit {limit}"))
            return [dict(row._mapping) for row in rows]
    except Exception as exc:  # examples are a courtesy; never let them hide the failure itself
        return [{"examples_unavailable": str(exc)[:200]}]


def _first_exception(exception_info: Any) -> str | None:
    """GE nests metric errors by metric id; surface the first message so failures are explained."""
    if not isinstance(exception_info, dict):
        return None
    for value in exception_info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])[:500]
    return None


def main() -> None:
    """`python -m orchestration.gx_suites STAGE SUITE_JSON OUT_JSON [TABLE ...]`: what
    `run_suite_on_spark` runs, in the Spark process."""
    stage, suite_file, out_file, *tables = sys.argv[1:]
    definition = json.loads(Path(suite_file).read_text(encoding="utf-8"))
    outcomes = _run_on_spark(stage, definition, tables)
    Path(out_file).write_text(json.dumps([asdict(o) for o in outcomes], default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
