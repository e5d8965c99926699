"""dbt models as Dagster assets: one `@dbt_assets` per gated layer.

A blocking check stops only what runs in a *different* step, so staging, intermediate and marts
are separate definitions: a failing staging gate stops the intermediate step, and so on. Each layer
builds on the target the `paths` resource names: in-process on DuckDB, or in a dbt process on Spark.
"""

import contextlib
import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb as _duckdb
from dagster_dbt import DagsterDbtTranslator, dbt_assets

from assets.analysis import analysis_version
from orchestration.dbt_runner import DbtRun, run_dbt
from orchestration.layer_sql import LAYER_FILES, sql_digest
from orchestration.metadata import table_metadata
from orchestration.project import dbt_project, manifest_json
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import ANALYTICS_OWNER, PIPELINE_OWNER, WRITER_POOL
from orchestration.spark_target import parquet_views, run_dbt_on_spark

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

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """Marts are read by analysts, so they answer for them too; the pipeline team owns the rest."""
        if dbt_resource_props.get("schema") == "marts":
            return [PIPELINE_OWNER, ANALYTICS_OWNER]
        return [PIPELINE_OWNER]


TRANSLATOR = NewsroomDbtTranslator()


def _views() -> set[str]:
    """unique_ids of the models built as views: their rows are computed when read, so counting or
    previewing one runs its query (intermediate.int_analysis_texts: 6 s at 1 GB, every run)."""
    return {
        unique_id
        for unique_id, node in manifest_json()["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    }


def _node_keys() -> dict[str, dg.AssetKey]:
    """unique_id -> asset key of every model and seed in the manifest."""
    manifest = manifest_json()
    return {
        unique_id: TRANSLATOR.get_asset_key(node)
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed")
    }


def _selection(context: dg.AssetExecutionContext, layer_select: str, keys: dict[str, dg.AssetKey]) -> str:
    """The layer's own selection, or the chosen models by name when the UI materializes a subset."""
    if set(context.selected_asset_keys) == set(context.assets_def.keys):
        return layer_select
    chosen = set(context.selected_asset_keys)
    return " ".join(sorted(uid.split(".")[-1] for uid, key in keys.items() if key in chosen))


#: Layers whose models are per-file incremental (macros/per_file.sql): when the text that decides
#: their rows changes (orchestration/layer_sql.py), the layer is rebuilt from scratch (--full-refresh).
INCREMENTAL_LAYERS = tuple(LAYER_FILES)
#: Per layer, its first per-file model: the current files not in it yet are what the layer has to build.
FIRST_PER_FILE_MODEL = {
    "staging": "staging.stg_raw__lines",
    "intermediate": "intermediate.int_line_context",
    "marts": "marts.line_roles",
}
#: Files per dbt invocation of a per-file layer: a whole gigabyte of lines at once ran out of a 2 GB
#: cap in int_line_context's window functions.
FILES_PER_BUILD = 1500
#: A layer's incremental build of at most this many new files runs two dbt nodes at once
#: (`dbt_threads`).
CONCURRENT_UP_TO = 150
BUILDS_DDL = (
    "create table if not exists intermediate.dbt_layer_builds "
    "(layer varchar primary key, digest varchar not null, built_at timestamp not null)"
)


def dbt_threads(full_refresh: bool, new_files: int) -> int:
    """dbt threads for a layer's build: two (a model beside another, or beside the last one's tests)
    for an incremental build of a few files, where dbt's 30-40 ms of Python per node then overlaps
    DuckDB's SQL (the marts at 1 GB after one new file: 5.8 -> 5.2 s); else one, as two models share
    the one DuckDB memory cap and FILES_PER_BUILD was sized for one model holding all of it."""
    return 2 if not full_refresh and new_files <= CONCURRENT_UP_TO else 1


def layer_target(layer: str) -> Path:
    """The target folder of the layer's dbt builds on DuckDB (its compiled SQL, run_results.json)."""
    project = dbt_project()
    return Path(project.project_dir) / project.target_path / "dagster" / layer


def layer_digest(layer: str) -> str:
    """Digest of the SQL, seeds and called macros (and for the marts, the text analysis' rules) that
    decide an incremental layer's rows."""
    if layer != "marts":
        return sql_digest(layer)
    return hashlib.sha256(f"{sql_digest(layer)}|{analysis_version()}".encode()).hexdigest()[:16]


def _needs_full_refresh(duckdb: Warehouse, layer: str, digest: str) -> bool:
    with duckdb.get_connection() as con:
        con.execute("create schema if not exists intermediate")
        con.execute(BUILDS_DDL)
        built = con.execute(
            "select digest from intermediate.dbt_layer_builds where layer = ?", [layer]
        ).fetchall()
    return not built or built[0][0] != digest


def _pending_files(duckdb: Warehouse, layer: str, full_refresh: bool) -> int:
    """Current files the layer's first per-file model has yet to build (all of them on a full refresh)."""
    table = FIRST_PER_FILE_MODEL[layer]
    with duckdb.get_connection() as con:
        schema, name = table.split(".")
        built = (
            not full_refresh
            and con.execute(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchall()[0][0]
        )
        # distinct first: a null-aware `not in` over every row of the table costs 1.4 s at 1 GB
        new = f" and file_id not in (select distinct file_id from {table})" if built else ""
        return con.execute(
            f"select count(*) from raw.files where status = 'loaded' and superseded_at is null{new}"
        ).fetchall()[0][0]


def _kept_models(layer: str) -> list[str]:
    """The layer's incremental models that are not per file (macros/marts.sql: the pairs and the
    aggregate marts), as quoted relations."""
    return sorted(
        f'"{node["schema"]}"."{node["alias"]}"'
        for node in manifest_json()["nodes"].values()
        if node["resource_type"] == "model"
        and node["original_file_path"].startswith(f"models/{layer}/")
        and node["config"].get("materialized") == "incremental"
        and "per_file" not in node["tags"]
    )


def _build_in_batches(
    context: dg.AssetExecutionContext, duckdb: Warehouse, layer: str, full_refresh: bool, target: Path
) -> tuple[bool, list[str], int]:
    """Build the layer's per-file models FILES_PER_BUILD files at a time, all but the last batch
    (the last goes with the layer's `dbt build`, tests included). Returns (full_refresh still to
    do, the vars for the final build, the files the layer had to build)."""
    pending = _pending_files(duckdb, layer, full_refresh)
    batches = max(1, math.ceil(pending / FILES_PER_BUILD))
    variables = ["--vars", json.dumps({"files_per_build": FILES_PER_BUILD})]
    for batch in range(1, batches):
        context.log.info(
            f"{layer}: files {(batch - 1) * FILES_PER_BUILD + 1}-{batch * FILES_PER_BUILD} of {pending}"
        )
        command = ["run", "--select", f"path:models/{layer},tag:per_file", *variables]
        run = run_dbt(
            [*command, *(["--full-refresh"] if full_refresh else [])],
            dbt_project(),
            Path(duckdb.database),
            target,
            on_log=context.log.info,
            memory_limit=duckdb.memory_limit,
        )
        if not run.success:
            raise dg.Failure(description=f"dbt run of the {layer} layer (batch {batch}) failed: {run.error}")
        if full_refresh:
            # the batches took the --full-refresh: the layer's other incremental models (the pairs,
            # the aggregate marts) start again in the final build as new tables
            with duckdb.get_connection() as con:
                for relation in _kept_models(layer):
                    con.execute(f"drop table if exists {relation}")
        full_refresh = False
    return full_refresh, variables, pending


def _run_layer_on_spark(
    context: dg.AssetExecutionContext, duckdb: Warehouse, paths: NewsroomPaths, layer: str, layer_select: str
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The layer on the spark target: whole tables each run (per-file merges need Delta, which pip does
    not ship). Row counts and previews are read from the tables' Parquet; the marts, once built, are
    also DuckDB views in the warehouse, so the report, the analyst copy and ad hoc SQL read Spark's."""
    keys = _node_keys()
    selection = _selection(context, layer_select, keys)
    run = run_dbt_on_spark(
        ["build", "--select", selection],
        paths.spark_path,
        paths.parquet,
        paths.spark_path / "dagster" / layer,
        on_log=context.log.info,
    )
    built = [
        ".".join(keys[r.unique_id].path) for r in run.results if r.unique_id in keys and r.status == "success"
    ]
    with _duckdb.connect() as con:
        parquet_views(con, paths.spark_path, built)
        yield from _results(context, run, keys, con)
    if layer == "marts" and run.success:
        with duckdb.get_connection() as con:
            mirrored = parquet_views(con, paths.spark_path, built)
            # the DuckDB marts are views now: a later build on the duckdb target starts them afresh
            con.execute("create schema if not exists intermediate")
            con.execute(BUILDS_DDL)
            con.execute("delete from intermediate.dbt_layer_builds where layer = 'marts'")
        context.log.info(f"{len(mirrored)} Spark marts readable in the DuckDB warehouse as views")
    if not run.success:
        raise dg.Failure(description=f"dbt build of the {layer} layer on Spark failed: {run.error}")


def _results(
    context: dg.AssetExecutionContext,
    run: DbtRun,
    keys: dict[str, dg.AssetKey],
    con: _duckdb.DuckDBPyConnection,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Dagster events of a dbt run: a materialization per model or seed built (metadata read from
    `con`), a check result per data test."""
    checks = set(context.selected_asset_check_keys)
    views = _views()
    for result in run.results:
        if result.resource_type in ("model", "seed") and result.status == "success":
            key = keys[result.unique_id]
            if key not in context.selected_asset_keys:
                continue
            metadata: dict[str, Any] = {
                "unique_id": result.unique_id,
                "dbt_seconds": round(result.seconds, 3),
            }
            if result.unique_id in views:
                metadata["view"] = "rows computed when read: not counted here"
            else:
                with contextlib.suppress(_duckdb.CatalogException):  # a Spark view has no Parquet to count
                    metadata = table_metadata(con, ".".join(key.path)) | metadata
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        elif result.resource_type == "test" and result.attached_node in keys:
            check = dg.AssetCheckKey(keys[result.attached_node], result.name)
            if check not in checks:
                continue
            yield dg.AssetCheckResult(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=result.status == "pass",
                severity=dg.AssetCheckSeverity.WARN
                if result.status == "warn"
                else dg.AssetCheckSeverity.ERROR,
                metadata={
                    "status": result.status,
                    "failures": result.failures or 0,
                    "unique_id": result.unique_id,
                },
            )


def _run_layer(
    context: dg.AssetExecutionContext, duckdb: Warehouse, layer: str, layer_select: str
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    keys = _node_keys()
    target = layer_target(layer)
    selection = _selection(context, layer_select, keys)
    command = ["build", "--select", selection]
    digest = layer_digest(layer) if layer in INCREMENTAL_LAYERS else None
    full_refresh = bool(digest) and _needs_full_refresh(duckdb, layer, digest)
    if full_refresh:
        # a first build, or the layer's SQL or seeds changed since the last one: rebuild every file
        context.log.info(f"{layer}: SQL or seeds changed since the last build (or none yet): full refresh")
    if digest and selection == layer_select:
        still_full, variables, pending = _build_in_batches(context, duckdb, layer, full_refresh, target)
        command += [*variables, "--threads", str(dbt_threads(still_full, pending))]
        command += ["--full-refresh"] if still_full else []
    elif full_refresh:
        command.append("--full-refresh")
    run = run_dbt(
        command,
        dbt_project(),
        Path(duckdb.database),
        target,
        on_log=context.log.info,  # the models and tests finished, every few seconds: never silent for long
        memory_limit=duckdb.memory_limit,
    )
    with duckdb.get_connection() as con:
        if full_refresh and run.success and selection == layer_select:
            con.execute(
                "insert or replace into intermediate.dbt_layer_builds values (?, ?, current_timestamp)",
                [layer, digest],
            )
        yield from _results(context, run, keys, con)
    if not run.success:
        raise dg.Failure(description=f"dbt build of the {layer} layer failed: {run.error}")


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
    def _layer(context: dg.AssetExecutionContext, duckdb: Warehouse, paths: NewsroomPaths):
        if paths.on_spark:
            yield from _run_layer_on_spark(context, duckdb, paths, layer, select)
        else:
            yield from _run_layer(context, duckdb, layer, select)

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
