"""Quality gates: each Great Expectations suite in `expectations/` runs as blocking asset checks.

One check per validated table, all named `ge_<stage>_suite`; a failure (severity ERROR) stops every
asset downstream of that table. Results are also appended to `quality.validation_results` and the
HTML report is re-rendered, so a failed gate is visible even though the report asset is skipped.
On the spark target the suites after raw run on Spark (GE's Spark data source); results and report
stay in the DuckDB file either way.

A file's rows never change once built, so after a stage's first full validation its gate validates
the tables its suite lists as per-file on the files it has not passed yet (`gate_scope`): the new
files of an incremental run. The record (`quality.gate_files`) is kept per suite and build rules
(`scope_key`): new expectations, new dbt SQL or new analysis rules validate every file again.
"""

import datetime as dt
import hashlib
from collections.abc import Iterator

import dagster as dg
import duckdb as _duckdb

from assets.analysis import no_full_match_since
from assets.quality_report import record_results, render_report
from orchestration.gx_suites import (
    ExpectationOutcome,
    load_suite_definition,
    matched_tables,
    per_file_tables,
    run_suite,
    run_suite_on_spark,
    suite_path,
    suite_tables,
)
from orchestration.metadata import markdown_table
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import WRITER_POOL

GATE_FILES_DDL = """
create schema if not exists quality;
create table if not exists quality.gate_files (stage varchar, scope_key varchar, file_id varchar);
create table if not exists quality.gate_scope (stage varchar, file_id varchar);
create table if not exists quality.gate_matches (stage varchar, scope_key varchar, matched_at timestamp);
"""
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


def scope_key(stage: str) -> str:
    """What a file's validation holds under: the suite, and the rules that build the stage's rows."""
    from assets.analysis import analysis_version
    from orchestration.dbt_assets import layer_digest

    rules = "" if stage == "raw" else analysis_version() if stage == "analysis" else layer_digest(stage)
    return hashlib.sha256(suite_path(stage).read_bytes() + rules.encode()).hexdigest()[:16]


#: The scope of a gate with no file to validate.
EMPTY_SCOPE = "select file_id from quality.gate_scope where false"


def gate_scope(con: _duckdb.DuckDBPyConnection, stage: str, key: str) -> tuple[str | None, int]:
    """SQL giving the files this gate has not passed under `key` (written to quality.gate_scope), and
    their number; None (the whole tables) when it has passed none under `key`. The gate's tables
    must exist (`GATE_FILES_DDL`)."""
    con.execute("delete from quality.gate_files where stage = ? and scope_key <> ?", [stage, key])
    if not con.execute("select count(*) from quality.gate_files where stage = ?", [stage]).fetchall()[0][0]:
        return None, 0
    con.execute("delete from quality.gate_scope where stage = ?", [stage])
    con.execute(
        """
        insert into quality.gate_scope select ?, file_id from raw.files
        where file_id not in (select file_id from quality.gate_files where stage = ?)
        """,
        [stage, stage],
    )
    files = con.execute("select count(*) from quality.gate_scope where stage = ?", [stage]).fetchall()[0][0]
    if not files:
        # no file to validate (a run that only brought a repeated file): a scope DuckDB can see is
        # empty when it plans. An empty `file_id in (...)` over the staging view of raw.lines still
        # computed the view's columns for every line first: 7.7 s of the staging gate at 1 GB.
        return EMPTY_SCOPE, 0
    return f"select file_id from quality.gate_scope where stage = '{stage}'", files


def record_passed(con: _duckdb.DuckDBPyConnection, stage: str, key: str, scope: str | None) -> None:
    """The files this gate has now passed: those of its `scope` (from `gate_scope`), or every file
    after a whole validation (None)."""
    files = scope if scope is not None else "select file_id from raw.files"
    con.execute(
        f"insert into quality.gate_files select ?, ?, file_id from ({files}) as passed "
        "where file_id not in (select file_id from quality.gate_files where stage = ?)",
        [stage, key, stage],
    )


def matched_scope(con: _duckdb.DuckDBPyConnection, stage: str, key: str) -> dt.datetime | None:
    """The match whose rows this gate last passed under `key`: the suite's matched tables
    are validated on the rows stamped after it. None (the whole tables) when it passed none, or a
    full match ran since (it can split groups: every row is in question again). The gate's tables
    must exist (`GATE_FILES_DDL`)."""
    con.execute("delete from quality.gate_matches where stage = ? and scope_key <> ?", [stage, key])
    passed = con.execute(
        "select max(matched_at) from quality.gate_matches where stage = ?", [stage]
    ).fetchall()[0][0]
    return passed if no_full_match_since(con, passed) else None


def record_matched(con: _duckdb.DuckDBPyConnection, stage: str, key: str) -> None:
    """This gate has passed the rows of every match up to the current one."""
    con.execute("delete from quality.gate_matches where stage = ?", [stage])
    con.execute(
        "insert into quality.gate_matches select ?, ?, max(matched_at) from intermediate.matching_state",
        [stage, key],
    )


def build_gate(stage: str) -> dg.AssetChecksDefinition:
    tables = suite_tables(stage)
    per_file = per_file_tables(load_suite_definition(stage))
    matched = matched_tables(load_suite_definition(stage))
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
        on_spark = paths.on_spark and stage in SPARK_STAGES
        # a subset of the tables cannot vouch for a file; Spark's gates validate whole tables
        tracks_files = not on_spark and to_run == tables
        scope, since, key, files = None, None, scope_key(stage), 0
        if tracks_files:
            with duckdb.get_connection() as con:
                con.execute(GATE_FILES_DDL)
                scope, files = gate_scope(con, stage, key)
                since = matched_scope(con, stage, key) if matched else None
        context.log.info(
            f"{stage} gate: the whole tables" if scope is None and since is None
            else f"{stage} gate: per-file tables on {files} files not yet validated"
            + (", matched tables on the rows of later matches" if since else "") + ", the others whole"
        )  # fmt: skip
        if on_spark:
            outcomes = run_suite_on_spark(stage, paths.spark_path, paths.parquet, to_run)
        else:
            outcomes = run_suite(
                stage, duckdb.database, to_run, memory_limit=duckdb.memory_limit, scope=scope,
                matched_since=since,
            )  # fmt: skip
        with duckdb.get_connection() as con:
            record_results(con, context.run.run_id, outcomes)
            if tracks_files and all(o.success for o in outcomes):
                record_passed(con, stage, key, scope)
                if matched:
                    record_matched(con, stage, key)
            index = render_report(con, paths.report_path, context.run.run_id)
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
                    "validated": f"the rows of {files} files not yet validated"
                    if scope is not None and table in per_file
                    else f"the rows of the matches since {since:%Y-%m-%d %H:%M:%S}"
                    if since is not None and table in matched
                    else "the whole table",
                    "outcomes": dg.MetadataValue.md(outcomes_md(mine)),
                    "report": dg.MetadataValue.path(str(page)),
                    "report_url": dg.MetadataValue.url(page.resolve().as_uri()),
                },
            )

    return _gate


GATES = [build_gate(stage) for stage in STAGES]
