"""dbt models as Dagster assets: one `@dbt_assets` per gated layer.

A blocking check stops only what runs in a *different* step, so staging, intermediate and marts
are separate definitions: a failing staging gate stops the intermediate step, and so on.
"""

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration.project import dbt_project
from orchestration.settings import WRITER_POOL

LAYERS = ("staging", "intermediate", "marts")


class NewsroomDbtTranslator(DagsterDbtTranslator):
    """Models and seeds are keyed `<schema>/<name>` and grouped by layer, matching DuckDB names."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] in ("model", "seed"):
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = NewsroomDbtTranslator()


def _run_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource, layer: str
) -> Iterator[Any]:
    # profiles.yml reads the warehouse path from the environment of the dbt process.
    os.environ["NEWSROOM_WAREHOUSE"] = str(Path(duckdb.database).resolve())
    target = Path(dbt_project().target_path) / "dagster" / layer
    yield from dbt.cli(["build"], context=context, target_path=target).stream()


def build_layer(layer: str, select: str, description: str) -> dg.AssetsDefinition:
    """One `@dbt_assets` step for one layer, so the gate before it can stop it."""

    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        select=select,
        name=f"dbt_{layer}",
        dagster_dbt_translator=TRANSLATOR,
        pool=WRITER_POOL,
    )
    def _layer(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
        yield from _run_dbt(context, dbt, duckdb, layer)

    _layer.__doc__ = description
    return _layer


dbt_staging = build_layer(
    "staging",
    "path:models/staging resource_type:seed",
    "Seeds and staging views: cleaned lines with features, the boilerplate phrase list.",
)
dbt_intermediate = build_layer(
    "intermediate",
    "path:models/intermediate",
    "Line context, one role per line with its rule and block, article paragraphs.",
)
dbt_marts = build_layer(
    "marts",
    "path:models/marts",
    "Tables analysts read: headlines, articles, stories, topic counts, file quality and more.",
)

DBT_LAYER_ASSETS = [dbt_staging, dbt_intermediate, dbt_marts]
