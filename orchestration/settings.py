"""Where the pipeline reads and writes, from environment variables.

Relative paths are resolved against the project root, so every entry point
(`make`, `dagster dev`, pytest) agrees on the same files whatever its working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

#: Every step that writes the DuckDB file runs in this Dagster pool (limit 1 in dagster.yaml),
#: because DuckDB allows one writing process per file.
WRITER_POOL = "duckdb_writer"

#: DuckDB's memory limit for every connection that writes the warehouse (Dagster's resource, dbt, the
#: GE gates). DuckDB's own default is 80% of the machine's RAM, per process; capped, it spills to disk.
DEFAULT_DUCKDB_MEMORY = "2GB"

#: profiles.yml's targets the Dagster graph can build on (`spark_thrift` is for dbt alone, docs/deploy.md).
DBT_TARGETS = ("duckdb", "spark")


def _resolve(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


def _parquet_root(value: str) -> str:
    """A URL (s3://…) as written, a local path resolved like the others, empty as empty."""
    return value if not value or "://" in value else str(_resolve(value))


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    report_dir: Path
    #: The analyst copy published after every fully-gated run; default: analytics.duckdb beside the warehouse.
    analytics: Path | None = None
    duckdb_memory: str = DEFAULT_DUCKDB_MEMORY
    #: Where Parquet copies of the raw layer and the text analysis go, for the Spark target
    #: (assets/parquet_store.py): a folder or an object-store URL; empty: none are written.
    parquet: str = ""
    #: The dbt target the graph builds on: `duckdb` (the warehouse file) or `spark` (dbt-spark; its
    #: tables and metastore under `spark_dir`, its sources the Parquet copies, orchestration/spark_target.py).
    dbt_target: str = "duckdb"
    spark_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.dbt_target not in DBT_TARGETS:
            raise ValueError(
                f"NEWSROOM_DBT_TARGET must be one of {', '.join(DBT_TARGETS)}, not {self.dbt_target!r}"
            )
        if self.dbt_target == "spark" and not self.parquet:
            raise ValueError("the spark target reads the raw layer from Parquet: set NEWSROOM_PARQUET")

    @property
    def spark_path(self) -> Path:
        return self.spark_dir or self.warehouse.with_name("spark")

    @property
    def analytics_path(self) -> Path:
        return self.analytics or self.warehouse.with_name("analytics.duckdb")

    def to_env(self) -> dict[str, str]:
        """The environment variables that make `from_env` return these settings."""
        return {
            "NEWSROOM_RAW_DIR": str(self.raw_dir),
            "NEWSROOM_WAREHOUSE": str(self.warehouse),
            "NEWSROOM_REPORT_DIR": str(self.report_dir),
            "NEWSROOM_ANALYTICS": str(self.analytics_path),
            "NEWSROOM_DUCKDB_MEMORY": self.duckdb_memory,
            "NEWSROOM_PARQUET": self.parquet,
            "NEWSROOM_DBT_TARGET": self.dbt_target,
            "NEWSROOM_SPARK_DIR": str(self.spark_path),
        }

    @classmethod
    def from_env(cls) -> Settings:
        analytics = os.environ.get("NEWSROOM_ANALYTICS")
        spark_dir = os.environ.get("NEWSROOM_SPARK_DIR")
        return cls(
            raw_dir=_resolve(os.environ.get("NEWSROOM_RAW_DIR", "data/raw")),
            warehouse=_resolve(os.environ.get("NEWSROOM_WAREHOUSE", "data/warehouse.duckdb")),
            report_dir=_resolve(os.environ.get("NEWSROOM_REPORT_DIR", "data/quality_report")),
            analytics=_resolve(analytics) if analytics else None,
            duckdb_memory=os.environ.get("NEWSROOM_DUCKDB_MEMORY") or DEFAULT_DUCKDB_MEMORY,
            parquet=_parquet_root(os.environ.get("NEWSROOM_PARQUET", "")),
            dbt_target=os.environ.get("NEWSROOM_DBT_TARGET") or "duckdb",
            spark_dir=_resolve(spark_dir) if spark_dir else None,
        )


#: Who answers for which assets (shown as owners in the Dagster UI).
PIPELINE_OWNER = "team:data-engineering"
ANALYTICS_OWNER = "team:analytics"
