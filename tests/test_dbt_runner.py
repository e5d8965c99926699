"""dbt in-process: a chosen subset of models builds alone, its tests become check results, and a
failing dbt test fails the step after recording what was built."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from orchestration.definitions import ASSETS
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
