"""Shared fixtures: sample data in tmp dirs and one fully materialized warehouse per session."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.settings import PROJECT_ROOT, Settings

SAMPLE_RAW = PROJECT_ROOT / "data" / "raw"
GOLD = Path(__file__).parent / "data" / "gold"


def make_settings(root: Path) -> Settings:
    (root / "raw").mkdir(parents=True, exist_ok=True)
    return Settings(
        raw_dir=root / "raw",
        warehouse=root / "warehouse.duckdb",
        report_dir=root / "quality_report",
        analytics=root / "analytics.duckdb",
    )


def copy_sample(raw_dir: Path) -> None:
    for path in SAMPLE_RAW.iterdir():
        shutil.copy(path, raw_dir / path.name)


def run_pipeline(settings: Settings, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Run the production job, bound to `settings`, through Dagster in-process."""
    from orchestration.definitions import build_defs

    job = build_defs(settings).resolve_job_def("newsroom_all")
    return job.execute_in_process(instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False)


def query(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def copy_warehouse(source: Path, target: Path) -> None:
    """A full copy of a DuckDB file, taken through DuckDB (safe while no writer holds it)."""
    with duckdb.connect() as con:
        con.execute("attach ? as src (read_only)", [str(source)])
        con.execute("attach ? as dst", [str(target)])
        con.execute("copy from database src to dst")


def read_gold(name: str) -> list[dict[str, str]]:
    with open(GOLD / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Built:
    settings: Settings
    result: dg.ExecuteInProcessResult
    instance: dg.DagsterInstance

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        return query(self.settings, sql, params)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The whole graph materialized once on the sample files, shared by read-only tests."""
    settings = make_settings(tmp_path_factory.mktemp("built"))
    copy_sample(settings.raw_dir)
    instance = dg.DagsterInstance.ephemeral()
    result = run_pipeline(settings, instance)
    return Built(settings, result, instance)


#: A headline list whose second item is a single character: read as a headline, and the marts gate
#: (headline length 3..300) must refuse it.
IMPLAUSIBLE_HEADLINES = "-\nMarkets rally as inflation cools\n-\nx\n-\nFloods hit northern Italy\n"


@pytest.fixture(scope="session")
def failed_marts_gate(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A run whose marts gate fails (one implausible headline beside the sample files)."""
    settings = make_settings(tmp_path_factory.mktemp("failed"))
    copy_sample(settings.raw_dir)
    (settings.raw_dir / "odd.txt").write_text(IMPLAUSIBLE_HEADLINES, encoding="utf-8")
    instance = dg.DagsterInstance.ephemeral()
    result = run_pipeline(settings, instance)
    return Built(settings, result, instance)


@pytest.fixture(scope="session")
def dbt_docs(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make docs`'s output for a copy of the built warehouse: the folder with static_index.html."""
    from orchestration import docs

    root = tmp_path_factory.mktemp("dbt_docs")
    copy_warehouse(built.settings.warehouse, root / "warehouse.duckdb")
    docs.generate_docs(root / "warehouse.duckdb", root / "docs")
    return root / "docs"


@pytest.fixture
def fresh(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for an empty warehouse in tmp_path; call with sample=True to copy the sample files."""

    def _make(sample: bool = True) -> Settings:
        settings = make_settings(tmp_path)
        if sample:
            copy_sample(settings.raw_dir)
        return settings

    return _make
