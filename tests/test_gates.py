"""A failing quality gate stops everything downstream of it — checked through Dagster runs."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.gx_suites import run_suite
from tests.conftest import Built, copy_sample, copy_warehouse, make_settings, run_pipeline


def _materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _failed_checks(result) -> set[tuple[str, str]]:
    return {
        (c.asset_key.to_user_string(), c.check_name)
        for c in result.get_asset_check_evaluations()
        if not c.passed
    }


def test_corrupted_raw_table_fails_raw_gate_and_stops_dbt(tmp_path) -> None:
    settings = make_settings(tmp_path)
    copy_sample(settings.raw_dir)
    first = run_pipeline(settings)
    assert first.success
    # Lose a line behind the loader's back: sum(line_count) no longer equals count(raw.lines).
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("delete from raw.lines where line_no = 7")
    second = run_pipeline(settings)
    assert ("raw/lines", "ge_raw_suite") in _failed_checks(second)
    built = _materialized(second)
    assert "raw/lines" in built  # the load itself ran (and, files being known, added nothing)
    assert not [k for k in built if k.split("/")[0] in ("staging", "intermediate", "marts", "quality")]
    # The failure is recorded for SQL and shown in the report, although the report asset was skipped.
    failed = (
        duckdb.connect(str(settings.warehouse), read_only=True)
        .execute(
            "select expectation from quality.validation_results where run_id = ? and not success",
            [second.run_id],
        )
        .fetchall()
    )
    assert ("unexpected_rows_expectation",) in failed
    page = (settings.report_dir / "runs" / f"{second.run_id}.html").read_text(encoding="utf-8")
    assert "No line lost" in page and "fail" in page


def test_implausible_headline_fails_marts_gate_and_stops_report(tmp_path) -> None:
    settings = make_settings(tmp_path)
    # A headline list whose second item is a single character: parsed as a headline, and the
    # marts gate (headline length 3..300) must refuse it.
    (settings.raw_dir / "odd.txt").write_text(
        "-\nMarkets rally as inflation cools\n-\nx\n-\nFloods hit northern Italy\n", encoding="utf-8"
    )
    result = run_pipeline(settings)
    assert ("marts/headlines", "ge_marts_suite") in _failed_checks(result)
    built = _materialized(result)
    assert "marts/headlines" in built
    assert "quality/report" not in built
    assert (settings.report_dir / "index.html").exists()  # the gate itself rendered the report


@pytest.mark.parametrize(
    ("stage", "corruption", "table"),
    [
        (
            "staging",
            "create or replace view staging.stg_raw__lines as select * from staging.stg_raw__lines_ok where line_no <> 3",
            "staging.stg_raw__files",
        ),
        (
            "intermediate",
            "delete from intermediate.int_line_roles where line_no = 5",
            "intermediate.int_line_roles",
        ),
        (
            "intermediate",
            "update intermediate.int_line_roles set role = 'footer' where line_no = 2",
            "intermediate.int_line_roles",
        ),
        ("marts", "update marts.articles set paragraph_count = 0", "marts.articles"),
        ("marts", "update marts.articles set section_headings = null", "marts.articles"),
    ],
)
def test_each_suite_catches_its_corruption(built: Built, tmp_path, stage, corruption, table) -> None:
    """The suites themselves, on a copy of a good warehouse with one thing broken."""
    copy = tmp_path / "copy.duckdb"
    copy_warehouse(built.settings.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        if "stg_raw__lines_ok" in corruption:
            con.execute("create table staging.stg_raw__lines_ok as select * from staging.stg_raw__lines")
        con.execute(corruption)
    assert all(o.success for o in run_suite(stage, built.settings.warehouse))
    outcomes = run_suite(stage, copy)
    assert [o for o in outcomes if o.table == table and not o.success]
