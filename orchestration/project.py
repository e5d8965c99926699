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

from orchestration.dbt_runner import parse
from orchestration.settings import DBT_PROJECT_DIR

os.environ.setdefault("DO_NOT_TRACK", "1")

_DBT_SOURCES = ("models", "macros", "seeds", "dbt_project.yml", "profiles.yml")


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _DBT_SOURCES:
        path = project_dir / name
        paths = [path] if path.is_file() else list(path.rglob("*")) if path.exists() else []
        for item in paths:
            if item.is_file():
                newest = max(newest, item.stat().st_mtime)
    return newest


def ensure_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` in-process when the manifest is missing or older than any dbt source."""
    manifest = Path(project.manifest_path)
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime(project.project_dir):
        return manifest
    parse(project)
    return manifest


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
