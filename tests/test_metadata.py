"""What the Dagster UI shows: metadata helpers on real tables, and the metadata the assets record."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from assets.progress import Progress, human_bytes
from assets.raw_store import DDL as RAW_DDL
from orchestration.definitions import defs
from orchestration.metadata import column_schema, markdown_table, topic_coverage, topic_coverage_md
from tests.conftest import Built


def test_human_bytes_and_progress_line_with_a_fake_clock() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1536, 5 * 1024**2, 3 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.5 KB",
        "5.0 MB",
        "3.0 GB",
    ]
    now = [100.0]
    progress = Progress("files", 4, total_bytes=4 * 1024**2, clock=lambda: now[0])
    now[0] = 102.0
    progress.advance(size=1024**2)
    assert progress.line() == "1/4 files (25.0%) · 1.0 MB of 4.0 MB · 512.0 KB/s · 0.5 files/s · 0:06 left"
    now[0] = 108.0
    progress.advance(3, 3 * 1024**2)
    assert progress.line() == "4/4 files (100.0%) · 4.0 MB of 4.0 MB · 512.0 KB/s · 0.5 files/s"


def test_markdown_table_keeps_cells_on_one_line_and_escapes_pipes() -> None:
    table = markdown_table(["a", "b"], [("x | y", "line one\nline two"), (0.123456789, None), ("z" * 100, 1)])
    rows = table.splitlines()
    assert rows[0] == "| a | b |" and rows[1] == "|---|---|"
    assert rows[2] == "| x \\| y | line one line two |"
    assert rows[3] == "| 0.1235 |  |"
    assert rows[4].startswith("| " + "z" * 59 + "… |")


def test_column_schema_comes_from_the_ddl_with_descriptions() -> None:
    schema = column_schema(RAW_DDL, "raw.files", {"file_id": "sha256 of the bytes"})
    columns = {c.name: c for c in schema.columns}
    assert list(columns)[:3] == ["file_id", "path", "size_bytes"]
    assert columns["file_id"].description == "sha256 of the bytes" and columns["size_bytes"].type == "bigint"
    assert columns["path"].constraints.nullable is False and columns["reason"].constraints.nullable is True
    with pytest.raises(ValueError, match="not created"):
        column_schema(RAW_DDL, "raw.nothing")


def test_every_asset_is_grouped_owned_described_and_has_columns() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        name = key.to_user_string()
        assert node.group_name == key.path[0] and node.owners and node.description, name
        assert {"duckdb"} <= set(node.kinds) and ({"dbt", "python"} & set(node.kinds)), name
        if key.path[0] != "quality":
            schema = node.metadata["dagster/column_schema"]
            assert schema.columns and all(c.description for c in schema.columns), name
    assert "great_expectations" in graph.get(dg.AssetKey(["quality", "report"])).kinds
    assert "polars" in graph.get(dg.AssetKey(["raw", "lines"])).kinds


def test_topic_coverage_counts_each_story_once(built: Built) -> None:
    with duckdb.connect(str(built.settings.warehouse), read_only=True) as con:
        day, rows = topic_coverage(con)
        chart = topic_coverage_md(con)
        stories = con.execute(
            "select topic, count(distinct story_id) from marts.stories s "
            "join (select distinct story_id from marts.headlines where load_date = ?) d using (story_id) group by topic",
            [day],
        ).fetchall()
    assert {t: s for t, s, *_ in rows if s} == dict(stories)
    assert abs(sum(share for *_, share in rows) - 1) < 1e-9
    assert [s for _, s, *_ in rows] == sorted((s for _, s, *_ in rows), reverse=True)
    assert f"**Coverage on {day}**" in chart and chart.count("█") > 0
    assert all(f"| {topic} |" in chart for topic, *_ in rows)


def test_materializations_carry_row_counts_and_previews(built: Built) -> None:
    events = {e.asset_key.to_user_string(): e for e in built.result.get_asset_materialization_events()}
    for name, event in events.items():
        metadata = event.materialization.metadata
        if name.startswith("quality/"):
            continue
        table = name.replace("/", ".")
        if "view" in metadata:  # a view's rows are computed when read: counting one runs its query
            assert "dagster/row_count" not in metadata, name
            assert built.query(
                "select table_type from information_schema.tables where table_schema || '.' || table_name = ?",
                [table],
            ) == [("VIEW",)], name
            continue
        count = built.query(f"select count(*) from {table}")[0][0]
        assert metadata["dagster/row_count"].value == count, name
        preview = metadata["preview"].value
        if count == 0:
            assert preview == "_no rows_", name
        else:
            assert preview.startswith("| ") and len(preview.splitlines()) == 2 + min(count, 5), name
    assert "view" in events["intermediate/int_analysis_texts"].materialization.metadata
    assert "dagster/row_count" in events["staging/stg_raw__lines"].materialization.metadata  # a table
    files = events["raw/files"].materialization.metadata
    assert files["files_loaded"].value == 2 and files["rejected"].value == "none"
    assert "000_d4a6634ab14781a5.txt" in files["loaded_this_run"].value
    coverage = events["marts/topic_counts"].materialization.metadata["topic_coverage"].value
    assert "share of distinct stories per topic" in coverage
