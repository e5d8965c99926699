"""Resources: the DuckDB warehouse, and where raw files, the quality report and the analyst copy live.

dbt needs no resource: it runs in-process (orchestration/dbt_runner.py) against the DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from orchestration.settings import DEFAULT_DUCKDB_MEMORY, Settings


class Warehouse(DuckDBResource):
    """The DuckDB warehouse. dagster-duckdb's `get_connection` closes its connection only when the
    step succeeds; a failed step left the file open in the run's process, so the next connection
    with other settings (the CLI's read-only summary, a test's query) could not open it.

    Its `memory_limit` (in `connection_config`) is also given to dbt and to the GE gates, so that every
    writer of the file holds the same cap: DuckDB's default is 80% of the machine's RAM per process."""

    @property
    def memory_limit(self) -> str:
        return str((self.connection_config or {}).get("memory_limit", DEFAULT_DUCKDB_MEMORY))

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as conn:
            try:
                yield conn
            finally:
                conn.close()


class NewsroomPaths(dg.ConfigurableResource):
    """Paths outside the working warehouse: the landing folder, the quality report, the analyst copy,
    the Parquet copies for Spark (empty: not written), and the engine dbt builds on."""

    raw_dir: str
    report_dir: str
    analytics: str
    parquet: str = ""
    #: `duckdb`, or `spark`: dbt, the text analysis and the gates after raw run on Spark.
    dbt_target: str = "duckdb"
    spark_dir: str = ""

    @property
    def on_spark(self) -> bool:
        return self.dbt_target == "spark"

    @property
    def spark_path(self) -> Path:
        return Path(self.spark_dir)

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
        "duckdb": Warehouse(
            database=str(settings.warehouse), connection_config={"memory_limit": settings.duckdb_memory}
        ),
        "paths": NewsroomPaths(
            raw_dir=str(settings.raw_dir),
            report_dir=str(settings.report_dir),
            analytics=str(settings.analytics_path),
            parquet=settings.parquet,
            dbt_target=settings.dbt_target,
            spark_dir=str(settings.spark_path),
        ),
    }
