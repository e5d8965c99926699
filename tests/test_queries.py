"""docs/queries.sql and dbt docs: every analyst query runs on a real warehouse, every model and
column the warehouse has is described."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration import docs, sql
from orchestration.settings import PROJECT_ROOT
from tests.conftest import Built

QUERIES = sql.parse_named_queries((PROJECT_ROOT / "docs" / "queries.sql").read_text(encoding="utf-8"))
ASKED_FOR = {
    "top stories today",
    "coverage share by topic over time",
    "duplicate echo per story",
    "files with high boilerplate",
    "quality failures this week",
}


def test_queries_file_holds_at_least_ten_named_queries() -> None:
    names = [q.name for q in QUERIES]
    assert len(names) >= 10 and len(set(names)) == len(names)
    assert set(names) >= ASKED_FOR


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_query_runs_on_the_analyst_copy(built: Built, query: sql.NamedQuery) -> None:
    with duckdb.connect(str(built.settings.analytics_path), read_only=True) as con:
        cursor = con.execute(query.sql)
        rows = cursor.fetchall()
        assert cursor.description
    if not query.may_be_empty:
        assert rows, f"{query.name} returned nothing on the sample warehouse"


def test_quality_failures_query_finds_a_provoked_failure(failed_marts_gate: Built) -> None:
    """On a run whose marts gate failed (the working warehouse: a failed run publishes no copy)."""
    query = next(q for q in QUERIES if q.name == "quality failures this week")
    rows = failed_marts_gate.query(query.sql)
    assert any(
        r[2] == "marts.headlines" and r[3] == "expect_column_value_lengths_to_be_between" for r in rows
    )


def test_sql_shell_runs_the_queries_file(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        sql.main([str(built.settings.analytics_path), "-f", str(PROJECT_ROOT / "docs" / "queries.sql")]) == 0
    )
    out = capsys.readouterr().out
    assert all(f"-- {q.name}" in out for q in QUERIES)


def test_parse_named_queries_rejects_an_empty_block() -> None:
    with pytest.raises(ValueError, match="no SQL"):
        sql.parse_named_queries("-- name: nothing\n-- just a comment\n")


def test_dbt_docs_describe_every_model_and_column(dbt_docs: Path) -> None:
    """`make docs` on a copy of a built warehouse: the static site exists and nothing is undocumented."""
    page = dbt_docs / "static_index.html"
    assert page.stat().st_size > 100_000
    assert docs.undocumented(dbt_docs) == []
    html = page.read_text(encoding="utf-8")
    assert '"model.newsroom.headlines"' in html and "duplicate_group_id" in html
