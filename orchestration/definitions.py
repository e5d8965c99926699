"""The Dagster Definitions: every asset, check, job, schedule, sensor and resource of newsroom."""

import dagster as dg

from assets.analysis import text_analysis
from assets.loading import raw_files_and_lines
from assets.publish import analytics_copy
from assets.quality_report import quality_report
from orchestration.checks import GATES
from orchestration.dbt_assets import DBT_LAYER_ASSETS
from orchestration.jobs import newsroom_all
from orchestration.resources import build_resources
from orchestration.schedules import daily_refresh
from orchestration.sensors import raw_files_sensor
from orchestration.settings import Settings

ASSETS = [raw_files_and_lines, *DBT_LAYER_ASSETS, text_analysis, quality_report, analytics_copy]


def build_defs(settings: Settings | None = None) -> dg.Definitions:
    """Definitions bound to `settings` (default: from the environment); tests pass tmp paths."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=GATES,
        jobs=[newsroom_all],
        schedules=[daily_refresh],
        sensors=[raw_files_sensor],
        resources=build_resources(settings),
        # Steps are small and share one DuckDB file: running them in one process avoids 3-5 s of
        # start-up per step and never has two processes open the file for writing.
        executor=dg.in_process_executor,
    )


defs = build_defs()
