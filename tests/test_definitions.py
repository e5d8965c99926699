"""Definitions load, each gated dbt layer is its own step, writers share one pool, sensor and schedule."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg

from orchestration.dbt_assets import DBT_LAYER_ASSETS
from orchestration.definitions import ASSETS, build_defs, defs
from orchestration.sensors import plan, raw_files_sensor, scan
from orchestration.settings import WRITER_POOL
from tests.conftest import make_settings


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert groups == {"raw", "staging", "intermediate", "marts", "quality"}
    assert defs.resolve_job_def("newsroom_all")
    assert defs.resolve_schedule_def("daily_refresh")
    assert defs.resolve_sensor_def("raw_files_sensor")


def test_each_gated_dbt_layer_is_its_own_definition() -> None:
    layers = {}
    for assets_def in DBT_LAYER_ASSETS:
        layers[assets_def.op.name] = {k.path[0] for k in assets_def.keys}
    assert layers == {
        "dbt_staging": {"staging"},
        "dbt_intermediate": {"intermediate"},
        "dbt_marts": {"marts"},
    }


def test_every_writing_step_is_in_the_writer_pool() -> None:
    from orchestration.checks import GATES

    for node in [*ASSETS, *GATES]:
        assert node.op.pool == WRITER_POOL, node.op.name


def test_gates_are_blocking_and_cover_every_stage() -> None:
    graph = defs.resolve_asset_graph()
    specs = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    ge = [s for s in specs if s.name.startswith("ge_")]
    assert {s.name for s in ge} == {
        f"ge_{s}_suite" for s in ("raw", "staging", "intermediate", "analysis", "marts")
    }
    assert all(s.blocking for s in ge)
    # every dbt layer reads only assets that a blocking gate guards
    guarded = {s.asset_key for s in ge}
    assert dg.AssetKey(["raw", "lines"]) in guarded
    assert dg.AssetKey(["staging", "stg_raw__lines"]) in guarded
    assert dg.AssetKey(["intermediate", "int_line_roles"]) in guarded
    assert dg.AssetKey(["intermediate", "headline_matches"]) in guarded
    assert dg.AssetKey(["marts", "headlines"]) in guarded


def _write(path: Path, text: str, mtime: float) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))


def test_sensor_waits_for_stable_files_and_never_runs_twice(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    sensor_defs = build_defs(settings)
    sensor = sensor_defs.resolve_sensor_def("raw_files_sensor")
    now = time.time() - 100
    _write(settings.raw_dir / "a.txt", "-\nOne headline\n", now)

    def evaluate(cursor: str | None):
        with dg.build_sensor_context(
            cursor=cursor, resources={"paths": sensor_defs.resources["paths"]}
        ) as ctx:
            result = sensor.evaluate_tick(ctx)
        return result, result.cursor

    first, cursor = evaluate(None)
    assert not first.run_requests  # seen once: maybe still being written
    _write(settings.raw_dir / "a.txt", "-\nOne headline\n-\nAnd a second\n", now + 1)  # still growing
    second, cursor = evaluate(cursor)
    assert not second.run_requests
    third, cursor = evaluate(cursor)  # unchanged since the last look: ready
    assert len(third.run_requests) == 1
    run_key = third.run_requests[0].run_key
    fourth, cursor = evaluate(cursor)
    assert not fourth.run_requests  # never a second run for the same file
    _write(settings.raw_dir / "a.txt", "-\nChanged\n", now + 5)  # changed: a new run, once stable
    fifth, cursor = evaluate(cursor)
    assert not fifth.run_requests
    sixth, cursor = evaluate(cursor)
    assert len(sixth.run_requests) == 1
    assert sixth.run_requests[0].run_key != run_key


def test_plan_is_pure_and_forgets_deleted_files() -> None:
    step1 = plan(None, {"a": (1, 1)})
    assert step1.ready == {}
    step2 = plan(step1.cursor, {"a": (1, 1)})
    assert step2.ready == {"a": (1, 1)}
    step3 = plan(step2.cursor, {})
    assert plan(step3.cursor, {"a": (1, 1)}).ready == {}  # came back: wait again for stability


def test_scan_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / ".partial").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("hello")
    assert list(scan(tmp_path)) == ["sub/b.txt"]


def test_schedule_requests_the_whole_graph() -> None:
    schedule = defs.resolve_schedule_def("daily_refresh")
    with dg.build_schedule_context(scheduled_execution_time=None) as ctx:
        result = schedule.evaluate_tick(ctx)
    assert len(result.run_requests) == 1
    assert schedule.job_name == "newsroom_all"
    assert schedule.cron_schedule == "0 6 * * *"
    assert raw_files_sensor.job_name == "newsroom_all"
