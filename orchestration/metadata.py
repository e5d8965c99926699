"""What each materialization tells the Dagster UI: row counts, a preview of the first rows, column
schemas with descriptions, and the day's topic coverage as a bar chart an editor reads at a glance.

Pure helpers over a DuckDB connection, shared by the Python assets and the dbt layers.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import dagster as dg
import duckdb

from orchestration.project import source_column_descriptions

PREVIEW_ROWS = 5
CELL_CHARS = 60
BAR_WIDTH = 24


def _cell(value: Any, max_chars: int = CELL_CHARS) -> str:
    """One markdown table cell: short, single-line, pipes escaped."""
    text = "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], max_chars: int = CELL_CHARS) -> str:
    header = "| " + " | ".join(_cell(c, max_chars) for c in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(_cell(v, max_chars) for v in row) + " |" for row in rows]
    return "\n".join([header, rule, *body])


def _quoted(table: str) -> str:
    return ".".join(f'"{part}"' for part in table.split("."))


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, limit: int = PREVIEW_ROWS) -> dict[str, Any]:
    """`dagster/row_count` and a markdown preview of the first rows of `schema.table`, after any
    charts registered for that table in TABLE_CHARTS (first, so they head the event in the UI)."""
    count = con.execute(f"select count(*) from {_quoted(table)}").fetchall()[0][0]
    cursor = con.execute(f"select * from {_quoted(table)} limit {int(limit)}")
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    preview = markdown_table(columns, rows) if rows else "_no rows_"
    charts = {name: dg.MetadataValue.md(render(con)) for name, render in TABLE_CHARTS.get(table, {}).items()}
    return {
        **charts,
        "dagster/row_count": dg.MetadataValue.int(count),
        "preview": dg.MetadataValue.md(preview),
    }


def python_table_metadata(ddl: str, table: str, source: str) -> dict[str, Any]:
    """Definition metadata of a table written by a Python asset: its columns as `ddl` creates them,
    described in the dbt source `source` (the one place those tables are documented)."""
    name = table.split(".")[1]
    return {
        "dagster/column_schema": column_schema(ddl, table, source_column_descriptions(source, name)),
        "dagster/table_name": table,
    }


@cache
def _scratch() -> duckdb.DuckDBPyConnection:
    """One empty in-memory database per process for column_schema: a new one per table cost 20-40 ms
    each, ten times over while the definitions load."""
    return duckdb.connect(":memory:")


def column_schema(ddl: str, table: str, descriptions: Mapping[str, str] | None = None) -> dg.TableSchema:
    """Columns and DuckDB types of `schema.table` as created by `ddl` (run in a rolled-back transaction
    on an empty in-memory database, so the schema shown is the one the code creates), with
    descriptions where known."""
    descriptions = descriptions or {}
    schema, name = table.split(".")
    con = _scratch().cursor()
    con.begin()
    try:
        con.execute(ddl)
        rows = con.execute(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
    finally:
        con.rollback()
        con.close()
    if not rows:
        raise ValueError(f"{table} is not created by the given DDL")
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column,
                type=data_type.lower(),
                description=descriptions.get(column),
                constraints=dg.TableColumnConstraints(nullable=nullable == "YES"),
            )
            for column, data_type, nullable in rows
        ]
    )


def topic_coverage(
    con: duckdb.DuckDBPyConnection,
) -> tuple[str | None, list[tuple[str, int, int, int, float]]]:
    """The latest day in `marts.topic_counts` and, per topic, (topic, stories, unique headlines,
    articles, share of stories), largest first. Stories, not raw rows: echoes of one event count once."""
    day = con.execute("select max(day) from marts.topic_counts").fetchall()[0][0]
    if day is None:
        return None, []
    rows = con.execute(
        """
        with per_topic as (
            select topic, sum(distinct_stories) as stories, sum(unique_headlines) as headlines,
                   sum(articles) as articles
            from marts.topic_counts where day = ? group by topic
        )
        select topic, stories, headlines, articles,
               coalesce(stories / nullif(sum(stories) over (), 0), 0) as share
        from per_topic order by stories desc, articles desc, topic
        """,
        [day],
    ).fetchall()
    return str(day), [(t, int(s), int(h), int(a), float(sh)) for t, s, h, a, sh in rows]


def topic_coverage_md(con: duckdb.DuckDBPyConnection) -> str:
    """A bar chart in a markdown table (the Dagster UI renders it; no image service needed)."""
    day, rows = topic_coverage(con)
    if day is None:
        return "_no headlines or articles yet_"
    top = max((share for *_, share in rows), default=0) or 1
    lines = [
        f"**Coverage on {day}** — share of distinct stories per topic",
        "",
        "| topic | stories | headlines | articles | share | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for topic, stories, headlines, articles, share in rows:
        bar = "█" * max(1, round(BAR_WIDTH * share / top)) if share else ""
        lines.append(f"| {topic} | {stories} | {headlines} | {articles} | {share:.0%} | `{bar}` |")
    return "\n".join(lines)


#: Charts shown with a table's materialization, by table: name -> renderer.
TABLE_CHARTS: dict[str, dict[str, Callable[[duckdb.DuckDBPyConnection], str]]] = {
    "marts.topic_counts": {"topic_coverage": topic_coverage_md},
}
