"""A failing quality gate stops everything downstream of it — checked through Dagster runs."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.checks import EMPTY_SCOPE, gate_scope, record_passed, scope_key
from orchestration.gx_suites import batch_query, run_suite
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


def test_implausible_headline_fails_marts_gate_and_stops_report(failed_marts_gate: Built) -> None:
    result, settings = failed_marts_gate.result, failed_marts_gate.settings
    assert ("marts/headlines", "ge_marts_suite") in _failed_checks(result)
    built = _materialized(result)
    assert "marts/headlines" in built
    assert "quality/report" not in built
    assert "quality/analytics_copy" not in built
    assert (settings.report_dir / "index.html").exists()  # the gate itself rendered the report


def test_check_metadata_shows_every_expectation_and_the_report_page(failed_marts_gate: Built) -> None:
    """What the UI's check view shows: each expectation's outcome and observed value, and the page."""
    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in failed_marts_gate.result.get_asset_check_evaluations()
    }
    failed = evaluations[("marts/headlines", "ge_marts_suite")]
    table = failed.metadata["outcomes"].value
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    recorded = failed_marts_gate.query(
        "select count(*), count(*) filter (where not success) from quality.validation_results "
        "where run_id = ? and table_name = 'marts.headlines'",
        [failed_marts_gate.result.run_id],
    )[0]
    assert len(rows) == recorded[0] == failed.metadata["expectations"].value
    assert failed.metadata["failed"].value == recorded[1] >= 1
    assert rows[0].startswith("| ❌ FAIL | expect_column_value_lengths_to_be_between | text |")
    assert "'x'" in rows[0] or "x" in rows[0].split("|")[-2]  # the failing example
    page = Path(failed.metadata["report"].value)
    assert page == failed_marts_gate.settings.report_dir / "runs" / f"{failed_marts_gate.result.run_id}.html"
    assert page.exists() and failed.metadata["report_url"].value == page.resolve().as_uri()
    passed = evaluations[("marts/articles", "ge_marts_suite")]
    assert passed.passed and "❌" not in passed.metadata["outcomes"].value


@pytest.mark.parametrize(
    ("stage", "corruption", "table"),
    [
        (
            "staging",
            "delete from staging.stg_raw__lines where line_no = 3",
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
        (  # a duplicate pair whose second headline left its group
            "marts",
            "update marts.headlines set duplicate_group_id = 'elsewhere' where headline_id = "
            "(select min(headline_id_b) from marts.headline_pairs where relation = 'duplicate')",
            "marts.headline_pairs",
        ),
        (  # a duplicate pair naming a headline that is not there
            "marts",
            "update marts.headline_pairs set headline_id_a = 'gone' where relation = 'duplicate' and "
            "headline_id_b = (select min(headline_id_b) from marts.headline_pairs where relation = 'duplicate')",
            "marts.headline_pairs",
        ),
    ],
)
def test_each_suite_catches_its_corruption(built: Built, tmp_path, stage, corruption, table) -> None:
    """The suites themselves, on a copy of a good warehouse with one thing broken."""
    copy = tmp_path / "copy.duckdb"
    copy_warehouse(built.settings.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(corruption)
    assert all(o.success for o in run_suite(stage, built.settings.warehouse))
    outcomes = run_suite(stage, copy)
    assert [o for o in outcomes if o.table == table and not o.success]


@pytest.mark.parametrize("stage", ["raw", "staging", "intermediate", "analysis", "marts"])
def test_a_suite_narrowed_to_some_files_passes_on_good_data(built: Built, stage: str) -> None:
    """Narrowing the per-file tables to a few files (what a gate does after its first full
    validation) keeps every check across tables consistent: no false failure on good data."""
    scope = "select file_id from raw.files where status = 'loaded' order by file_id limit 2"
    outcomes = run_suite(stage, built.settings.warehouse, scope=scope)
    assert outcomes and all(o.success for o in outcomes), [o for o in outcomes if not o.success]


def test_a_narrowed_suite_checks_its_files_and_only_them(built: Built, tmp_path) -> None:
    copy = tmp_path / "copy.duckdb"
    copy_warehouse(built.settings.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        inside, outside = (
            r[0] for r in con.execute("select file_id from marts.articles order by 1 limit 2").fetchall()
        )
        con.execute("update marts.articles set section_headings = null where file_id = ?", [outside])
    scope = f"select '{inside}' as file_id"
    failed = lambda outcomes: [o for o in outcomes if not o.success]  # noqa: E731
    assert not failed(run_suite("marts", copy, scope=scope))  # the broken file is not in the scope
    assert failed(run_suite("marts", copy, scope=f"select '{outside}' as file_id"))
    # an expectation over the whole table still sees every row of a per-file table
    with duckdb.connect(str(copy)) as con:
        con.execute("update marts.headlines set story_id = null where file_id <> ?", [inside])
    broken = failed(run_suite("marts", copy, scope=scope))
    assert ("marts.headlines", "story_id") in [(o.table, o.kwargs.get("column")) for o in broken]


def test_a_suite_narrowed_to_later_matches_checks_their_rows_and_only_them(built: Built, tmp_path) -> None:
    """After a pass, the marts gate validates stories, pairs and topic counts on the rows the later
    matches stamped (`matched_at`; orchestration/checks.matched_scope); a story repeated is caught
    whatever its stamp."""
    copy = tmp_path / "copy.duckdb"
    copy_warehouse(built.settings.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        since = con.execute("select max(matched_at) from marts.stories").fetchall()[0][0]
        first, second = (
            r[0] for r in con.execute("select story_id from marts.stories order by 1 limit 2").fetchall()
        )
        con.execute(
            "update marts.stories set headline_count = headline_count + 1 where story_id = ?", [first]
        )
    failed = lambda outcomes: [(o.table, o.expectation) for o in outcomes if not o.success]  # noqa: E731
    assert failed(run_suite("marts", copy)) == [("marts.stories", "unexpected_rows_expectation")]
    assert not failed(run_suite("marts", copy, matched_since=since))  # an older row: not in question
    with duckdb.connect(str(copy)) as con:  # as a later match would have stamped it
        con.execute(
            "update marts.stories set matched_at = matched_at + interval 1 second where story_id = ?", [first]
        )
    assert failed(run_suite("marts", copy, matched_since=since)) == [
        ("marts.stories", "unexpected_rows_expectation")
    ]
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update marts.stories set headline_count = headline_count - 1 where story_id = ?", [first]
        )
        con.execute("insert into marts.stories select * from marts.stories where story_id = ?", [second])
    assert failed(run_suite("marts", copy, matched_since=since)) == [
        ("marts.stories", "expect_column_values_to_be_unique")
    ]


def test_a_gate_with_no_new_file_plans_its_per_file_batches_as_empty(built: Built, tmp_path) -> None:
    """After a run that validated every file, the next gate's scope holds no file, and DuckDB plans a
    per-file batch as an empty result instead of scanning the table (a repeated file's run at 1 GB
    spent 7.7 s in the staging gate on an empty scope it could not see was empty)."""
    settings = make_settings(tmp_path)
    copy_warehouse(built.settings.warehouse, settings.warehouse)
    with duckdb.connect(str(settings.warehouse)) as con:
        scope, files = gate_scope(con, "staging", scope_key("staging"))
        assert (scope, files) == (EMPTY_SCOPE, 0)
        batch = batch_query("staging.stg_raw__lines", per_file=True, scope=scope)
        assert con.execute(f"select count(*) from ({batch})").fetchall() == [(0,)]
        plan = con.execute(f"explain {batch}").fetchall()[0][1]
        assert "Empty Result" in plan and "Scan" not in plan
        # one file not yet validated: the scope names it, and the batch holds its lines
        con.execute(
            "delete from quality.gate_files where stage = 'staging' and file_id = (select min(file_id) from raw.files)"
        )
        scope, files = gate_scope(con, "staging", scope_key("staging"))
        assert files == 1 and scope != EMPTY_SCOPE
        batch = batch_query("staging.stg_raw__lines", per_file=True, scope=scope)
        expected = con.execute(
            "select count(*) from raw.lines where file_id = (select min(file_id) from raw.files)"
        ).fetchall()
        assert con.execute(f"select count(*) from ({batch})").fetchall() == expected != [(0,)]
        # once passed, that file is recorded under the key, and the next scope is empty again
        record_passed(con, "staging", scope_key("staging"), scope)
        recorded = "select count(*) from quality.gate_files where stage = 'staging'"
        assert con.execute(recorded).fetchall() == con.execute("select count(*) from raw.files").fetchall()
        assert gate_scope(con, "staging", scope_key("staging")) == (EMPTY_SCOPE, 0)
