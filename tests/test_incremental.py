"""Per-file incremental dbt models (dbt_project/macros/per_file.sql): a run builds only the files the
staging and intermediate tables have not seen, drops files that are no longer current, and rebuilds
everything when the layer's SQL or seeds change. Whatever the history, the tables equal a build from
scratch on the same files."""

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.dbt_assets import layer_digest
from tests.conftest import Built, copy_warehouse, make_settings, query, run_pipeline

PER_FILE = [
    "staging.stg_raw__lines",
    "intermediate.int_line_context",
    "intermediate.int_line_roles",
    "intermediate.int_paragraphs",
    "intermediate.int_article_bodies",
]
NEW_FILE = (
    "Floods close schools across the north\n-\nCentral bank holds rates steady\n-\nLocal team wins the cup\n"
)


def _rows(settings, table: str) -> list[str]:
    return sorted(map(repr, query(settings, f"select * from {table}")))


def _from_scratch(raw_dir: Path, root: Path):
    """The same landing folder built into an empty warehouse."""
    settings = make_settings(root)
    for path in raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    assert run_pipeline(settings).success
    return settings


def test_a_new_file_adds_only_its_rows_and_a_changed_file_replaces_its_own(
    built: Built, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "grown")
    copy_warehouse(built.settings.warehouse, settings.warehouse)
    for path in built.settings.raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    before = {t: _rows(settings, t) for t in PER_FILE}

    (settings.raw_dir / "late_desk.txt").write_text(NEW_FILE, encoding="utf-8")
    assert run_pipeline(settings).success
    new_id = query(settings, "select file_id from raw.files where path = 'late_desk.txt'")[0][0]
    for table in PER_FILE[:3]:
        after = _rows(settings, table)
        old = sorted(r for r in after if new_id not in r)
        assert old == before[table], table  # the old files' rows are untouched
        assert len(after) - len(old) == 5, table  # five lines, no article

    # the same path with new content: the old version's rows go, the new version's come
    (settings.raw_dir / "late_desk.txt").write_text(
        NEW_FILE + "-\nStorm warning for the coast\n", encoding="utf-8"
    )
    assert run_pipeline(settings).success
    assert query(settings, "select count(*) from staging.stg_raw__lines where file_id = ?", [new_id]) == [
        (0,)
    ]
    scratch = _from_scratch(settings.raw_dir, tmp_path / "scratch")
    for table in PER_FILE:
        assert _rows(settings, table) == _rows(scratch, table), table


def test_a_change_to_the_layers_sql_rebuilds_every_file(built: Built, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    copy_warehouse(built.settings.warehouse, settings.warehouse)
    for path in built.settings.raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    assert query(settings, "select layer, digest from intermediate.dbt_layer_builds order by layer") == [
        ("intermediate", layer_digest("intermediate")),
        ("staging", layer_digest("staging")),
    ]
    expected = _rows(settings, "intermediate.int_line_roles")
    with duckdb.connect(str(settings.warehouse)) as con:
        # rows as an older version of the rules would have left them
        con.execute("update intermediate.int_line_roles set rule = 'old_rule'")
    assert run_pipeline(settings).success
    assert query(settings, "select count(*) from intermediate.int_line_roles where rule = 'old_rule'") != [
        (0,)
    ]

    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(
            "update intermediate.dbt_layer_builds set digest = 'older rules' where layer = 'intermediate'"
        )
    assert run_pipeline(settings).success
    assert _rows(settings, "intermediate.int_line_roles") == expected
    assert query(
        settings, "select digest from intermediate.dbt_layer_builds where layer = 'intermediate'"
    ) == [(layer_digest("intermediate"),)]


def test_a_build_in_batches_of_files_equals_one_build(built: Built, tmp_path: Path, monkeypatch) -> None:
    """A large build runs FILES_PER_BUILD files per dbt invocation (memory stays bounded at any size);
    one file per batch gives the same tables as the session's single build."""
    from orchestration import dbt_assets

    monkeypatch.setattr(dbt_assets, "FILES_PER_BUILD", 1)
    settings = make_settings(tmp_path)
    for path in built.settings.raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    assert len(list(settings.raw_dir.iterdir())) >= 2
    instance = dg.DagsterInstance.ephemeral()
    result = run_pipeline(settings, instance)
    assert result.success
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    files = len(list(settings.raw_dir.iterdir()))
    for layer in ("staging", "intermediate"):
        assert [m for m in logged if m.startswith(f"{layer}: files ")] == [
            f"{layer}: files {n}-{n} of {files}" for n in range(1, files)
        ]
    for table in PER_FILE:
        assert _rows(settings, table) == _rows(built.settings, table), table
