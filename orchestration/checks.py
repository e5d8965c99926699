"""Quality gates: each Great Expectations suite in `expectations/` runs as blocking asset checks.

One check per validated table, all named `ge_<stage>_suite`; a failure (severity ERROR) stops every
asset downstream of that table. Results are also appended to `quality.validation_results` and the
HTML report is re-rendered, so a failed gate is visible even though the report asset is skipped.
On the spark target the suites after raw run on Spark (GE's Spark data source); results and report
stay in the DuckDB file either way.
"""

from collections.abc import Iterator

import dagster as dg

from assets.quality_report import record_results, render_report
from orchestration.gx_suites import (
    ExpectationOutcome,
    run_suite,
    run_suite_on_spark,
    suite_path,
    suite_tables,
)
from orchestration.metadata import markdown_table
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import WRITER_POOL

STAGES = ("raw", "staging", "intermediate", "analysis", "marts")
#: Stages whose tables live on Spark when dbt builds on it (the raw layer stays in DuckDB: the loader's).
SPARK_STAGES = ("staging", "intermediate", "analysis", "marts")


def table_key(table: str) -> dg.AssetKey:
    """`schema.table` in DuckDB is asset key `schema/table` in Dagster."""
    return dg.AssetKey(table.split("."))


def check_name(stage: str) -> str:
    return f"ge_{stage}_suite"


def _outcome_row(o: ExpectationOutcome) -> tuple[str, ...]:
    column = o.kwargs.get("column") or ", ".join(o.kwargs.get("column_list") or []) or ""
    examples = str(o.examples[:3]) if o.examples else ""
    return (
        "✅ pass" if o.success else "❌ FAIL",
        o.expectation,
        column,
        o.description,
        "" if o.observed_value is None else str(o.observed_value),
        "" if o.unexpected_count is None else str(o.unexpected_count),
        o.error or examples,
    )


def outcomes_md(outcomes: list[ExpectationOutcome]) -> str:
    """Every expectation of one table: outcome, observed value, failing examples (failures first)."""
    ordered = sorted(outcomes, key=lambda o: o.success)
    return markdown_table(
        ["outcome", "expectation", "column", "why it matters", "observed", "unexpected", "examples / error"],
        [_outcome_row(o) for o in ordered],
        max_chars=200,
    )


def build_gate(stage: str) -> dg.AssetChecksDefinition:
    tables = suite_tables(stage)
    name = check_name(stage)
    specs = [
        dg.AssetCheckSpec(
            name=name,
            asset=table_key(table),
            blocking=True,
            description=f"Great Expectations suite expectations/{stage}.json on {table}.",
            metadata={"suite": str(suite_path(stage).name)},
        )
        for table in tables
    ]

    @dg.multi_asset_check(
        name=f"ge_{stage}_gate",
        specs=specs,
        can_subset=True,
        pool=WRITER_POOL,
        description=f"Quality gate after the {stage} stage (Great Expectations, blocking).",
    )
    def _gate(
        context: dg.AssetCheckExecutionContext, duckdb: Warehouse, paths: NewsroomPaths
    ) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        to_run = [t for t in tables if dg.AssetCheckKey(table_key(t), name) in selected]
        if paths.on_spark and stage in SPARK_STAGES:
            outcomes = run_suite_on_spark(stage, paths.spark_path, paths.parquet, to_run)
        else:
            outcomes = run_suite(stage, duckdb.database, to_run, memory_limit=duckdb.memory_limit)
        with duckdb.get_connection() as con:
            record_results(con, context.run.run_id, outcomes)
            index = render_report(con, paths.report_path)
        run_page = paths.report_path / "runs" / f"{context.run.run_id}.html"
        page = run_page if run_page.exists() else index
        for table in to_run:
            mine = [o for o in outcomes if o.table == table]
            failed = [o for o in mine if not o.success]
            for o in failed:
                context.log.error(
                    f"{stage} gate, {table}: {o.expectation} failed ({o.description}) observed={o.observed_value}"
                )
            yield dg.AssetCheckResult(
                asset_key=table_key(table),
                check_name=name,
                passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "expectations": len(mine),
                    "failed": len(failed),
                    "outcomes": dg.MetadataValue.md(outcomes_md(mine)),
                    "report": dg.MetadataValue.path(str(page)),
                    "report_url": dg.MetadataValue.url(page.resolve().as_uri()),
                },
            )

    return _gate


GATES = [build_gate(stage) for stage in STAGES]
