"""The GE-on-DuckDB route we chose: it needs DuckDB registered as a persisted-connection dialect,
reads tables through query assets, and must release the DuckDB file when done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from orchestration.checks import STAGES
from orchestration.gx_suites import load_suite_definition, run_suite, suite_tables
from orchestration.settings import PROJECT_ROOT
from tests.conftest import Built, copy_warehouse

PROBE = textwrap.dedent(
    """
    import sys, duckdb
    import great_expectations as gx
    from orchestration.gx_suites import register_duckdb_dialect
    db = sys.argv[1]
    con = duckdb.connect(db); con.execute("create schema s; create table s.t as select range as n from range(10)"); con.close()
    if sys.argv[2] == "registered":
        register_duckdb_dialect()
    ctx = gx.get_context(mode="ephemeral")
    asset = ctx.data_sources.add_sql("w", connection_string="duckdb:///" + db).add_query_asset("t", query="select * from s.t")
    suite = gx.ExpectationSuite("p", expectations=[{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "n"}}])
    print("RESULT", asset.add_batch_definition_whole_table("all").get_batch().validate(suite).success)
    """
)


@pytest.mark.parametrize(("mode", "expected"), [("plain", "RESULT False"), ("registered", "RESULT True")])
def test_ge_on_duckdb_needs_the_dialect_registered(tmp_path: Path, mode: str, expected: str) -> None:
    # A fresh interpreter each, so the registration of one cannot leak into the other.
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    out = subprocess.run(
        [sys.executable, str(probe), str(tmp_path / "probe.duckdb"), mode],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        timeout=300,
    )
    assert expected in out.stdout, out.stderr[-2000:]


def test_importing_ge_never_ends_a_process_with_no_main_file() -> None:
    """GE imports pyspark's Connect module when pyspark is installed (requirements-scale.lock). Without
    Connect's client libraries that module takes a process whose main module has no file (`python -c`,
    some launchers) for a doctest run and calls sys.exit(0): every GE gate of a run launched from the
    UI ended there, as a 'success' of nothing. requirements-scale.in installs pyspark[connect]."""
    out = subprocess.run(
        [sys.executable, "-c", "import great_expectations, pyspark; print('still running')"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "still running" in out.stdout, out.stderr[-2000:]


def test_suite_files_are_ge_suites_with_a_table_and_reason_per_expectation() -> None:
    import great_expectations as gx

    for stage in STAGES:
        definition = load_suite_definition(stage)
        assert definition["name"] == stage
        suite = gx.ExpectationSuite(name=stage, expectations=definition["expectations"])
        assert len(suite.expectations) == len(definition["expectations"]) >= 5
        for exp in definition["expectations"]:
            assert exp["meta"]["table"].split(".")[0] in ("raw", "staging", "intermediate", "marts")
            assert exp["meta"]["description"]


def test_suites_validate_real_tables(built: Built) -> None:
    existing = {
        f"{s}.{t}" for s, t in built.query("select table_schema, table_name from information_schema.tables")
    }
    for stage in STAGES:
        assert set(suite_tables(stage)) <= existing


def test_run_suite_releases_the_duckdb_file(built: Built) -> None:
    outcomes = run_suite("raw", built.settings.warehouse)
    assert outcomes and all(o.success for o in outcomes)
    json.dumps([o.observed_value for o in outcomes])  # observed values are JSON-able for the results table
    # another process can now take the write lock
    code = (
        f"import duckdb; duckdb.connect({str(built.settings.warehouse)!r}).execute('checkpoint'); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-500:]


def test_a_gate_runs_without_loading_scipy_stats(tmp_path: Path, built: Built) -> None:
    """GE imports scipy.stats for expectations our suites do not use (1.0 s of a run's first gate);
    `defer_unused_ge_imports` leaves it unloaded through a real suite and through the scan of every module
    that dbt's behaviour flags make at each dbt invocation, and whole on first use. A fresh
    interpreter, since this one may have loaded it already."""
    copy = tmp_path / "copy.duckdb"
    copy_warehouse(built.settings.warehouse, copy)
    code = textwrap.dedent(
        f"""
        import sys
        from orchestration.gx_suites import run_suite
        outcomes = run_suite("raw", {str(copy)!r})
        print("PASSED", sum(o.success for o in outcomes), len(outcomes))
        from dbt_common.behavior_flags import BehaviorFlagRendered
        print("SOURCE", BehaviorFlagRendered._default_source())
        print("STATS LOADED", "scipy.stats._stats_py" in sys.modules)
        from scipy import stats
        print("ENTROPY", round(float(stats.entropy([0.5, 0.5], base=2)), 6))
        import scipy.stats
        print("SAME", scipy.stats.norm is stats.norm)
        print("STATS LOADED", "scipy.stats._stats_py" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        timeout=300,
    )
    lines = out.stdout.splitlines()
    passed = next(line for line in lines if line.startswith("PASSED")).split()
    assert passed[1] == passed[2] != "0", out.stderr[-2000:]
    assert [line for line in lines if line.startswith(("STATS", "ENTROPY", "SAME"))] == [
        "STATS LOADED False",
        "ENTROPY 1.0",
        "SAME True",
        "STATS LOADED True",
    ]


def test_failures_carry_examples(tmp_path: Path, built: Built) -> None:
    copy = tmp_path / "copy.duckdb"
    copy_warehouse(built.settings.warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("update raw.files set line_count = line_count + 1")
    failed = [o for o in run_suite("raw", copy) if not o.success]
    assert [o.expectation for o in failed] == ["unexpected_rows_expectation"]
    assert failed[0].observed_value == 2 or failed[0].observed_value == "2"
    assert {"file_id", "line_count", "stored"} <= set(failed[0].examples[0])
