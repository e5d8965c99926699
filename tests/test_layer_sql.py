"""What decides each kept dbt layer's rows (orchestration/layer_sql.py): a change rebuilds the layers
whose models call it, and only those (a marts-only macro must not rebuild a gigabyte of staging)."""

import shutil
from pathlib import Path

import pytest

from orchestration.layer_sql import LAYER_FILES, layer_texts, macros_called, project_macros, sql_digest
from orchestration.settings import DBT_PROJECT_DIR

LAYERS = tuple(LAYER_FILES)


def _called(layer: str, project_dir: Path = DBT_PROJECT_DIR) -> set[str]:
    texts = [text for _, text in layer_texts(layer, project_dir)]
    return macros_called(texts, project_macros(project_dir))


def test_each_layer_calls_its_own_macros_and_no_later_layers() -> None:
    staging, intermediate, marts = (_called(layer) for layer in LAYERS)
    assert staging < intermediate < marts
    # per-file config: dispatched, both adapters' implementations, and the post-hook it names only
    # inside a string
    assert {"per_file_config", "default__per_file_config", "spark__per_file_config"} <= staging
    assert {"delete_stale_files", "only_new_files", "generate_schema_name"} <= staging
    # dbt calls the seed loader override itself; it calls spark_literal
    assert {"spark__load_csv_rows", "spark_literal"} <= staging
    marts_only = {"aggregates_in_full", "refresh_matches", "headlines_by_group_position", "same_pair"}
    assert marts_only <= marts
    assert not marts_only & intermediate
    assert "agg_list" in intermediate and "agg_list" not in staging


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the dbt project's rule files, to change."""
    copy = tmp_path / "dbt_project"
    for part in ("models", "macros", "seeds"):
        shutil.copytree(DBT_PROJECT_DIR / part, copy / part)
    shutil.copy(DBT_PROJECT_DIR / "dbt_project.yml", copy / "dbt_project.yml")
    return copy


def _digests(project_dir: Path) -> dict[str, str]:
    return {layer: sql_digest(layer, project_dir) for layer in LAYERS}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _changed(before: dict[str, str], project_dir: Path) -> set[str]:
    after = _digests(project_dir)
    return {layer for layer in LAYERS if after[layer] != before[layer]}


def test_a_change_rebuilds_the_layers_that_call_it(project: Path) -> None:
    before = _digests(project)
    assert before == _digests(DBT_PROJECT_DIR)  # paths are relative: a copy has the same rules
    macros = project / "macros"

    _edit(macros / "marts.sql", "macro aggregates_in_full", "macro aggregates_in_full ")
    assert _changed(before, project) == {"marts"}
    before = _digests(project)

    # an adapter's implementation of a macro every layer calls
    _edit(macros / "per_file.sql", "file_format='parquet'", "file_format='parquet' ")
    assert _changed(before, project) == set(LAYERS)
    before = _digests(project)

    # the post-hook named only inside a string in per_file_config
    _edit(macros / "per_file.sql", "where status <> 'loaded'", "where status  <> 'loaded'")
    assert _changed(before, project) == set(LAYERS)
    before = _digests(project)

    _edit(macros / "cross_db" / "lists.sql", "macro default__agg_list", "macro default__agg_list ")
    assert _changed(before, project) == {"intermediate", "marts"}
    before = _digests(project)

    # text outside every macro (a file's header comment) decides nothing
    _edit(macros / "per_file.sql", "Per-file incremental models.", "Per-file incremental models, kept.")
    assert _changed(before, project) == set()

    # a new macro changes nothing until a model calls it
    (macros / "unused.sql").write_text("{% macro shout(x) %}upper({{ x }}){% endmacro %}\n", encoding="utf-8")
    assert _changed(before, project) == set()
    staging_model = sorted((project / "models" / "staging").glob("*.sql"))[0]
    staging_model.write_text(staging_model.read_text(encoding="utf-8") + "\n-- {{ shout('x') }}\n")
    assert _changed(before, project) == set(LAYERS)
    before = _digests(project)
    _edit(macros / "unused.sql", "upper", "lower")
    assert _changed(before, project) == set(LAYERS)
    before = _digests(project)

    intermediate_model = sorted((project / "models" / "intermediate").glob("*.sql"))[0]
    intermediate_model.write_text(intermediate_model.read_text(encoding="utf-8") + "\n")
    assert _changed(before, project) == {"intermediate", "marts"}


def test_jinja_comments_call_nothing() -> None:
    macros = {"shout": "{% macro shout(x) %}upper({{ x }}){% endmacro %}"}
    assert macros_called(["select 1 {# shout() would be wrong here #}"], macros) == set()
    assert macros_called(["select {{ shout('a') }}"], macros) == {"shout"}
    # a name inside a longer word is not a call
    assert macros_called(["select shouted, reshout"], macros) == set()
