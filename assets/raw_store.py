"""Writing raw files into DuckDB: one transaction per file, keyed by the content's sha256.

Pure of Dagster so the loader can be tested and benchmarked on its own; the Dagster asset in
`assets/loading.py` only calls `load_raw_dir` and reports what it did.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from assets.decoding import UndecodableError, decode_bytes, sha256_hex, split_lines

DDL = """
create schema if not exists raw;
create table if not exists raw.files (
    file_id     varchar primary key,
    path        varchar not null,
    size_bytes  bigint not null,
    encoding    varchar,
    line_count  integer not null,
    status      varchar not null,
    reason      varchar,
    loaded_at   timestamp not null
);
create table if not exists raw.lines (
    file_id  varchar not null,
    line_no  integer not null,
    text     varchar not null
);
create table if not exists raw.file_paths (
    path           varchar not null,
    file_id        varchar not null,
    first_seen_at  timestamp not null,
    primary key (path, file_id)
);
"""


@dataclass
class FileOutcome:
    path: str
    file_id: str
    status: str  # loaded | empty | rejected | already_loaded
    line_count: int = 0
    reason: str | None = None


@dataclass
class LoadReport:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def new_lines(self) -> int:
        return sum(o.line_count for o in self.outcomes if o.status == "loaded")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def iter_raw_files(raw_dir: Path) -> Iterator[Path]:
    """Regular files under raw_dir, sorted; hidden files and links leading outside are skipped."""
    root = raw_dir.resolve()
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if not path.is_file():
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            continue
        yield path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def load_file(con: duckdb.DuckDBPyConnection, path: Path, rel_path: str) -> FileOutcome:
    """Load one file unless its content is already there; all-or-nothing in one transaction."""
    data = path.read_bytes()
    file_id = sha256_hex(data)
    now = _now()
    con.execute(
        "insert into raw.file_paths values (?, ?, ?) on conflict do nothing", [rel_path, file_id, now]
    )
    if con.execute("select 1 from raw.files where file_id = ?", [file_id]).fetchall():
        return FileOutcome(rel_path, file_id, "already_loaded")

    try:
        decoded = decode_bytes(data)
    except UndecodableError as exc:
        outcome = FileOutcome(rel_path, file_id, "rejected", reason=str(exc))
        encoding, lines = None, []
    else:
        lines = split_lines(decoded.text)
        encoding = decoded.encoding
        status = "loaded" if lines else "empty"
        outcome = FileOutcome(rel_path, file_id, status, len(lines), None if lines else "empty file")

    con.begin()
    try:
        con.execute(
            "insert into raw.files values (?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, rel_path, len(data), encoding, len(lines), outcome.status, outcome.reason, now],
        )
        if lines:
            frame = pl.DataFrame(
                {
                    "file_id": pl.Series([file_id], dtype=pl.String).extend_constant(file_id, len(lines) - 1),
                    "line_no": pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int32),
                    "text": pl.Series(lines, dtype=pl.String),
                }
            )
            con.register("incoming_lines", frame.to_arrow())
            con.execute("insert into raw.lines select file_id, line_no, text from incoming_lines")
            con.unregister("incoming_lines")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return outcome


def load_raw_dir(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> LoadReport:
    """Load every new file under raw_dir; files already loaded (same sha256) cost one hash each."""
    ensure_schema(con)
    report = LoadReport()
    if not raw_dir.is_dir():
        return report
    for path in iter_raw_files(raw_dir):
        report.outcomes.append(load_file(con, path, path.relative_to(raw_dir).as_posix()))
    return report
