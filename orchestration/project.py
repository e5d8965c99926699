"""The one cached DbtProject, with its manifest prepared on first use.

`DbtProject.prepare_if_dev()` only acts under `dagster dev`; tests, `make run` and CI import the
Definitions directly, so we parse in-process (about 2 s, and only when a dbt file is newer than
the manifest) before anything reads the manifest.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.dbt_runner import manifest_is_current, parse
from orchestration.settings import DBT_PROJECT_DIR

os.environ.setdefault("DO_NOT_TRACK", "1")


def ensure_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` in-process when the manifest is missing or older than any dbt source."""
    if not manifest_is_current(project):
        parse(project)
    return Path(project.manifest_path)


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    ensure_manifest(project)
    return project


@cache
def manifest_json() -> dict:
    """The manifest as parsed JSON (read once per process)."""
    import json

    return json.loads(Path(dbt_project().manifest_path).read_text())


@cache
def source_column_descriptions(source: str, table: str) -> dict[str, str]:
    """Column descriptions of a dbt source table (`__sources.yml`): the one place tables written by
    Python assets are documented, shown both in dbt docs and in the Dagster UI."""
    manifest = manifest_json()
    node = manifest["sources"].get(f"source.newsroom.{source}.{table}")
    if node is None:
        raise KeyError(f"no dbt source {source}.{table}")
    return {name: column.get("description", "") for name, column in node["columns"].items()}
