"""`make run`'s command and `make sql`'s shell, as a user runs them."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from orchestration import sql
from orchestration.cli import command_env
from orchestration.settings import PROJECT_ROOT, Settings
from tests.conftest import Built


def _run_cli(settings: Settings, home, cwd) -> subprocess.CompletedProcess[str]:
    """`python -m orchestration.cli run` (what `make run` runs) on settings, in its own instance."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        capture_output=True,
        text=True,
        env=command_env(settings, home),
        cwd=cwd,
        timeout=600,
    )


def test_run_command_prints_the_summary(built: Built, tmp_path) -> None:
    home = tmp_path / "dagster_home"
    out = _run_cli(built.settings, home, tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    summary = out.stdout[out.stdout.index("newsroom run") :]
    assert "succeeded" in summary
    assert "2 loaded, 0 empty, 0 rejected  (152 lines)" in summary
    assert "63 headlines, 2 articles" in summary
    assert re.search(r"checks\s+\d+ passed, 0 failed", summary)
    assert str(built.settings.warehouse) in summary
    assert str(built.settings.report_dir / "index.html") in summary
    assert "make ui" in summary
    assert list((home / "storage").iterdir()) or (home / "history").exists()  # the run is in the instance


def _readme_queries() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Query the warehouse") :]
    section = section[: section.index("\n## ", 5)]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def test_readme_queries_work_on_the_warehouse(built: Built) -> None:
    queries = _readme_queries()
    assert len(queries) >= 3
    for query in queries:
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            assert sql.main([str(built.settings.warehouse), "-c", query]) == 0
        assert "│" in buffer.getvalue() and not re.search(r"\b0 rows", buffer.getvalue())


def test_sql_shell_is_read_only(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert sql.main([str(built.settings.warehouse), "-c", "delete from marts.headlines"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert built.query("select count(*) from marts.headlines") == [(63,)]


def test_large_ingest_shows_progress_per_batch(tmp_path) -> None:
    """A 70-file ingest from the command line: one progress line per batch of files as it is committed
    (files, bytes, rate, time left, which files), and progress from the text analysis; never a silent
    stretch."""
    import csv

    from assets.raw_store import LOAD_BATCH

    with open(PROJECT_ROOT / "tests/data/topic_headlines.csv", newline="", encoding="utf-8") as handle:
        headlines = [row["text"] for row in csv.DictReader(handle)]
    raw = tmp_path / "raw"
    raw.mkdir()
    for n in range(70):
        chunk = headlines[n * 4 : n * 4 + 4]
        (raw / f"desk_{n:02d}.txt").write_text("\n-\n".join(chunk) + "\n", encoding="utf-8")
    settings = Settings(
        raw, tmp_path / "warehouse.duckdb", tmp_path / "report", tmp_path / "analytics.duckdb"
    )
    out = _run_cli(settings, tmp_path / "dagster_home", tmp_path)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    log = out.stdout + out.stderr
    total = sum(p.stat().st_size for p in raw.iterdir())
    progress = re.findall(
        r"\[(\d+)/70 files \(([\d.]+)%\) · ([\d.]+ [KMG]?B) of ([\d.]+ [KMG]?B) · [\d.]+ [KMG]?B/s · [\d.]+ files/s"
        r"(?: · \d+:\d\d left)?\] (\d+) loaded; (\d+) lines: (desk_\d\d\.txt) … (desk_\d\d\.txt)",
        log,
    )
    ends = [*range(LOAD_BATCH, 70, LOAD_BATCH), 70]  # every batch, in order, as it lands
    assert [int(p[0]) for p in progress] == ends
    assert [(p[6], p[7]) for p in progress] == [(f"desk_{e - int(p[4]):02d}.txt", f"desk_{e - 1:02d}.txt")
                                                for e, p in zip(ends, progress, strict=True)]  # fmt: skip
    assert sum(int(p[5]) for p in progress) >= 70 * 4
    assert progress[-1][1] == "100.0" and progress[-1][2] == progress[-1][3]
    assert progress[-1][3] == f"{total / 1024:.1f} KB"
    assert "language and topics [70/70 files (100.0%)" in log
    assert re.search(r"matched 280 headlines: \d+ linked pairs", log)
