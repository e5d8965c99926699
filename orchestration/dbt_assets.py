"""dbt models as Dagster assets: one `@dbt_assets` per gated layer.

A blocking check stops only what runs in a *different* step, so staging, intermediate and marts
are separate definitions: a failing staging gate stops the intermediate step, and so on.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration.metadata import table_metadata, topic_coverage_md
from orchestration.project import dbt_project
from orchestration.settings import ANALYTICS_OWNER, PIPELINE_OWNER, WRITER_POOL

LAYERS = ("staging", "intermediate", "marts")
TOPIC_COUNTS = dg.AssetKey(["marts", "topic_counts"])


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

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """Marts are read by analysts, so they answer for them too; the pipeline team owns the rest."""
        if dbt_resource_props.get("schema") == "marts":
            return [PIPELINE_OWNER, ANALYTICS_OWNER]
        return [PIPELINE_OWNER]


TRANSLATOR = NewsroomDbtTranslator()


def _with_table_metadata(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, events: list[Any]
) -> Iterator[Any]:
    """Add row count and preview (and the topic coverage chart) to each built model's output.

    Done after dbt has exited: DuckDB lets one process write the file, and dbt holds it while it runs.
    """
    with duckdb.get_connection() as con:
        for event in events:
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
                extra = table_metadata(con, ".".join(key.path))
                if key == TOPIC_COUNTS:  # first, so an editor sees it at the top of the event
                    extra = {"topic_coverage": dg.MetadataValue.md(topic_coverage_md(con)), **extra}
                event = event.with_metadata({**extra, **event.metadata})
            yield event


def _run_dbt(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource, layer: str
) -> Iterator[Any]:
    # profiles.yml reads the warehouse path from the environment of the dbt process.
    os.environ["NEWSROOM_WAREHOUSE"] = str(Path(duckdb.database).resolve())
    target = Path(dbt_project().target_path) / "dagster" / layer
    events: list[Any] = []
    try:
        # dbt's log lines reach the run log as they happen; outputs are held until dbt exits
        events.extend(dbt.cli(["build"], context=context, target_path=target).stream())
    except Exception:
        yield from _with_table_metadata(context, duckdb, events)  # what did build is still recorded
        raise
    yield from _with_table_metadata(context, duckdb, events)


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
