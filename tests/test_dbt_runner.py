"""dbt in-process: a chosen subset of models builds alone, its tests become check results, and a
failing dbt test fails the step after recording what was built; dbt's manifest object is reused
across processes, and its node lines reach the run log in batches."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtProject

from orchestration import dbt_runner
from orchestration.dbt_runner import BatchedLog, load_manifest, run_dbt, write_manifest_cache
from orchestration.definitions import ASSETS
from orchestration.project import dbt_project
from orchestration.resources import build_resources
from tests.conftest import Built, copy_warehouse, make_settings


def _materialize_headlines(settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        selection=dg.AssetSelection.assets(dg.AssetKey(["marts", "headlines"])),
        resources=build_resources(settings),
        raise_on_error=False,
    )


def test_subset_builds_only_the_chosen_model_with_its_tests(built: Built, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    copy_warehouse(built.settings.warehouse, settings.warehouse)
    result = _materialize_headlines(settings)
    assert result.success
    built_keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert built_keys == {"marts/headlines"}
    checks = {
        (c.asset_key.to_user_string(), c.check_name, c.passed) for c in result.get_asset_check_evaluations()
    }
    assert ("marts/headlines", "unique_headlines_headline_id", True) in checks
    assert {key for key, *_ in checks} == {"marts/headlines"}
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (
        metadata["dagster/row_count"].value == 63
        and metadata["unique_id"].value == "model.newsroom.headlines"
    )


def test_failing_dbt_test_fails_the_step_and_is_recorded(built: Built, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    copy_warehouse(built.settings.warehouse, settings.warehouse)
    with duckdb.connect(str(settings.warehouse)) as con:  # one headline loses its story
        con.execute(
            "update intermediate.headline_matches set story_id = null "
            "where headline_id = (select min(headline_id) from intermediate.headline_matches)"
        )
    result = _materialize_headlines(settings)
    assert not result.success
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert [(c.asset_key.to_user_string(), c.check_name) for c in failed] == [
        ("marts/headlines", "not_null_headlines_story_id")
    ]
    assert failed[0].metadata["failures"].value == 1
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not_null_headlines_story_id" in str(failure.event_specific_data.error)


def test_batched_log_passes_node_lines_on_together() -> None:
    heard: list[str] = []
    with BatchedLog(heard.append, every=3600) as log:
        for line in ("1 of 3 OK created model a", "2 of 3 PASS not_null_a_id", "3 of 3 OK created model b"):
            log(line)
        assert heard == []  # held until the interval passes or the block ends
    assert heard == ["1 of 3 OK created model a\n2 of 3 PASS not_null_a_id\n3 of 3 OK created model b"]
    every_line: list[str] = []
    with BatchedLog(every_line.append, every=0) as log:
        log("first")
        log("second")
    assert every_line == ["first", "second"]


def test_manifest_object_is_unpickled_when_current_and_parsed_when_not(tmp_path: Path) -> None:
    """A copy of the project: its first load parses (writing manifest.json and the pickle), a later
    process's load unpickles without parsing (manifest.json untouched), and a stale or broken cache
    makes it parse again. The unpickled manifest has the generic tests dbt can compile."""
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(
        Path(dbt_project().project_dir), project_dir, ignore=shutil.ignore_patterns("target", "logs")
    )
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    manifest_file, cache = Path(project.manifest_path), dbt_runner._cache_path(project)
    parsed = load_manifest(project)
    assert manifest_file.exists() and cache.exists()
    written = manifest_file.stat().st_mtime_ns

    # dbt builds its lookups on first use; a manifest pickled after that must still compile
    assert parsed.ref_lookup is not None and parsed.source_lookup is not None
    write_manifest_cache(project, parsed)
    dbt_runner._PARSED.clear()  # as a new process
    unpickled = load_manifest(project)
    assert manifest_file.stat().st_mtime_ns == written  # not parsed again
    assert unpickled is not parsed and sorted(unpickled.nodes) == sorted(parsed.nodes)
    assert any(type(node).__name__ == "GenericTestNode" for node in unpickled.nodes.values())
    compiled = run_dbt(
        ["compile", "--select", "stg_raw__lines not_null_stg_raw__lines_file_id"],
        project,
        tmp_path / "warehouse.duckdb",
        tmp_path / "target",
    )
    assert compiled.success, compiled.error
    assert manifest_file.stat().st_mtime_ns == written

    dbt_runner._PARSED.clear()
    cache.write_bytes(b"not a pickle")
    load_manifest(project)
    assert manifest_file.stat().st_mtime_ns != written  # parsed, and the cache written anew
    dbt_runner._PARSED.clear()
    rewritten = manifest_file.stat().st_mtime_ns
    load_manifest(project)
    assert manifest_file.stat().st_mtime_ns == rewritten

    model = next(project_dir.glob("models/marts/*.sql"))
    os.utime(model, ns=(rewritten + 10**9, rewritten + 10**9))  # a dbt file newer than the manifest
    dbt_runner._PARSED.clear()
    load_manifest(project)
    assert manifest_file.stat().st_mtime_ns > rewritten


def test_warm_up_invokes_dbt_without_touching_the_warehouse(built: Built, tmp_path: Path) -> None:
    """The resident runner's standby calls `warm_up` while other processes may write the warehouse:
    it must neither create nor lock the file (a writer opens it meanwhile), and leave no target."""
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    assert dbt_runner.warm_up(dbt_project(), missing)
    assert not missing.parent.exists()
    settings = make_settings(tmp_path)
    copy_warehouse(built.settings.warehouse, settings.warehouse)
    with duckdb.connect(str(settings.warehouse)) as writer:  # held open for writing meanwhile
        assert dbt_runner.warm_up(dbt_project(), settings.warehouse)
        writer.execute("create table written_meanwhile as select 1 as x")
    assert not list(Path(tempfile.gettempdir()).glob("newsroom-dbt-warm-*"))
