"""The warehouse resource lets go of the file when a step fails, not only when it succeeds."""

from pathlib import Path

import duckdb
import pytest

from orchestration.resources import Warehouse


def test_a_failed_step_does_not_keep_the_warehouse_open(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    warehouse = Warehouse(database=str(database))
    with pytest.raises(RuntimeError, match="step failed"), warehouse.get_connection() as con:
        con.execute("create table t as select 42 as x")
        raise RuntimeError("step failed")
    # `con` is still referenced here, as a failed step's traceback references it: a read-only
    # connection (other settings) opens only if the resource closed it
    with duckdb.connect(str(database), read_only=True) as reader:
        assert reader.execute("select x from t").fetchall() == [(42,)]
    assert con is not None


def test_every_writer_takes_the_warehouse_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resource, dbt and the GE gates all open the file with NEWSROOM_DUCKDB_MEMORY: a cap that is
    not a size fails each of them, and a real one is what DuckDB reports (its default would be 80% of
    the machine's RAM)."""
    from orchestration.dbt_runner import run_dbt
    from orchestration.gx_suites import run_suite
    from orchestration.project import dbt_project
    from orchestration.resources import build_resources
    from orchestration.settings import Settings

    monkeypatch.setenv("NEWSROOM_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("NEWSROOM_DUCKDB_MEMORY", "300MB")
    settings = Settings.from_env()
    warehouse = build_resources(settings)["duckdb"]
    assert warehouse.memory_limit == "300MB"
    with warehouse.get_connection() as con:
        assert con.execute("select current_setting('memory_limit')").fetchall() == [("286.1 MiB",)]

    seed = ["seed", "--select", "boilerplate_phrases"]
    run = run_dbt(seed, dbt_project(), settings.warehouse, tmp_path / "target", memory_limit="lots")
    assert not run.success and "Memory must have a number" in (run.error or "")
    assert run_dbt(seed, dbt_project(), settings.warehouse, tmp_path / "target", memory_limit="300MB").success
    with pytest.raises(Exception, match="Memory must have a number"):
        run_suite("raw", settings.warehouse, memory_limit="lots")
