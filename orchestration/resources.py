"""Resources: the DuckDB warehouse, dbt, and where raw files and the quality report live."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.project import dbt_project
from orchestration.settings import Settings


class NewsroomPaths(dg.ConfigurableResource):
    """Paths outside the working warehouse: the landing folder, the quality report, the analyst copy."""

    raw_dir: str
    report_dir: str
    analytics: str

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir)

    @property
    def report_path(self) -> Path:
        return Path(self.report_dir)

    @property
    def analytics_path(self) -> Path:
        return Path(self.analytics)


def build_resources(settings: Settings | None = None) -> dict[str, object]:
    settings = settings or Settings.from_env()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    return {
        "duckdb": DuckDBResource(database=str(settings.warehouse)),
        # The dbt of this interpreter's environment, found even when .venv/bin is not on PATH.
        "dbt": DbtCliResource(
            project_dir=dbt_project(), dbt_executable=str(Path(sys.executable).parent / "dbt")
        ),
        "paths": NewsroomPaths(
            raw_dir=str(settings.raw_dir),
            report_dir=str(settings.report_dir),
            analytics=str(settings.analytics_path),
        ),
    }
