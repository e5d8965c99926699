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
