"""Writing raw files into DuckDB: one transaction per batch of files, keyed by the content's sha256.

Pure of Dagster so the loader can be tested and benchmarked on its own; the Dagster asset in
`assets/loading.py` only calls `load_raw_dir` and reports what it did.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from assets.decoding import UndecodableError, decode_bytes, sha256_hex, split_lines
from assets.progress import Progress

LOAD_BATCH = 32  # files per transaction
LOAD_BATCH_BYTES = 64 * 1024**2  # and at most this many bytes of them in memory

DDL = """
create schema if not exists raw;
create table if not exists raw.files (
    file_id        varchar primary key,
    path           varchar not null,
    size_bytes     bigint not null,
    encoding       varchar,
    line_count     integer not null,
    status         varchar not null,
    reason         varchar,
    loaded_at      timestamp not null,
    superseded_at  timestamp
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
    superseded_at  timestamp,
    primary key (path, file_id)
);
create table if not exists raw.path_stats (
    path        varchar primary key,
    size_bytes  bigint not null,
    mtime_ns    bigint not null,
    file_id     varchar not null
);
create table if not exists raw.rejected_paths (
    path     varchar primary key,
    reason   varchar not null,
    seen_at  timestamp not null
);
"""


@dataclass
class FileOutcome:
    path: str
    file_id: str
    status: str  # loaded | empty | rejected | already_loaded | unreadable
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


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit when the block ends, roll back on any exception (or a kill)."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def iter_raw_paths(raw_dir: Path) -> Iterator[tuple[Path, str | None]]:
    """(path, None) for every regular file under raw_dir to read, sorted; (path, reason) for one that
    must not be read. Hidden files and folders are skipped; symlinked folders are not followed;
    a symlink to a file is read only when its target is inside raw_dir."""
    root = raw_dir.resolve()
    found: list[tuple[Path, str | None]] = []
    for folder, dirs, files in os.walk(raw_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    found.append((path, "symlink to a file outside the raw dir (not followed)"))
                    continue
                if not target.is_file():
                    found.append((path, "broken symlink"))
                    continue
            elif not path.is_file():
                found.append((path, "not a regular file"))
                continue
            found.append((path, None))
    return iter(sorted(found))


def iter_raw_files(raw_dir: Path) -> Iterator[Path]:
    """The files under raw_dir that are read (see iter_raw_paths)."""
    return (path for path, reason in iter_raw_paths(raw_dir) if reason is None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _record_paths(con: duckdb.DuckDBPyConnection, placed: list[tuple[str, str]], now: dt.datetime) -> None:
    """Make each (path, file_id) the current content at its path; what it replaces there is superseded.
    Inside the caller's transaction, set-based for a whole batch. A content is superseded once no path
    holds it any more."""
    if not placed:
        return
    con.register(
        "placed", pl.DataFrame(placed, schema={"path": pl.String, "file_id": pl.String}, orient="row")
    )
    previous = [
        r[0]
        for r in con.execute(
            "select distinct p.file_id from raw.file_paths p join placed n on n.path = p.path "
            "where p.superseded_at is null and p.file_id <> n.file_id"
        ).fetchall()
    ]
    con.execute(
        "update raw.file_paths p set superseded_at = ? from placed n "
        "where p.path = n.path and p.superseded_at is null and p.file_id <> n.file_id",
        [now],
    )
    con.execute(
        "insert into raw.file_paths select path, file_id, ?, null from placed "
        "on conflict (path, file_id) do update set superseded_at = null",
        [now],
    )
    con.execute("update raw.files set superseded_at = null where file_id in (select file_id from placed)")
    if previous:
        con.execute(
            "update raw.files set superseded_at = ? where file_id in (select unnest(?::varchar[])) "
            "and file_id not in (select file_id from raw.file_paths where superseded_at is null)",
            [now, previous],
        )
    con.execute("delete from raw.rejected_paths where path in (select path from placed)")
    con.unregister("placed")


def _record_rejected(
    con: duckdb.DuckDBPyConnection, rejected: list[tuple[str, str]], now: dt.datetime
) -> None:
    if rejected:
        con.executemany(
            "insert into raw.rejected_paths values (?, ?, ?) on conflict (path) do update set reason = excluded.reason",
            [[path, reason, now] for path, reason in rejected],
        )


def record_rejected_path(con: duckdb.DuckDBPyConnection, rel_path: str, reason: str) -> FileOutcome:
    _record_rejected(con, [(rel_path, reason)], _now())
    return FileOutcome(rel_path, "", "unreadable", reason=reason)


@dataclass(frozen=True)
class ToLoad:
    """A file to read: where it is, its path below the landing folder, and its (size, mtime_ns)."""

    path: Path
    rel_path: str
    stat: tuple[int, int] | None = None


def load_batch(con: duckdb.DuckDBPyConnection, batch: list[ToLoad]) -> list[FileOutcome]:
    """Load some files in one transaction: all of them or none (a kill leaves whole files only).
    A content already there (same sha256, in the warehouse or earlier in the batch) is not stored
    again. A file that cannot be read or decoded is recorded with the reason; the others load.
    One transaction per batch, not per file: each statement and commit costs about as much for
    thirty files as for one (the loader managed 25 files/s one at a time)."""
    now = _now()
    read: list[tuple[ToLoad, bytes, str]] = []
    outcomes: dict[str, FileOutcome] = {}
    for item in batch:
        try:
            data = item.path.read_bytes()
        except OSError as exc:
            outcomes[item.rel_path] = FileOutcome(
                item.rel_path, "", "unreadable", reason=f"cannot be read: {exc.strerror or exc}"
            )
            continue
        read.append((item, data, sha256_hex(data)))
    known = {
        r[0]
        for r in con.execute(
            "select file_id from raw.files where file_id in (select unnest(?::varchar[]))",
            [[file_id for _, _, file_id in read]],
        ).fetchall()
    }
    files, lines_frames, placed = [], [], []
    for item, data, file_id in read:
        placed.append((item.rel_path, file_id))
        if file_id in known:
            outcomes[item.rel_path] = FileOutcome(item.rel_path, file_id, "already_loaded")
            continue
        known.add(file_id)
        try:
            decoded = decode_bytes(data)
        except UndecodableError as exc:
            outcome = FileOutcome(item.rel_path, file_id, "rejected", reason=str(exc))
            encoding, lines = None, []
        else:
            lines = split_lines(decoded.text)
            encoding = decoded.encoding
            status = "loaded" if lines else "empty"
            outcome = FileOutcome(item.rel_path, file_id, status, len(lines), None if lines else "empty file")
        outcomes[item.rel_path] = outcome
        files.append(
            (file_id, item.rel_path, len(data), encoding, len(lines), outcome.status, outcome.reason, now)
        )
        if lines:
            lines_frames.append(
                pl.DataFrame(
                    {
                        "file_id": pl.Series([file_id], dtype=pl.String).extend_constant(
                            file_id, len(lines) - 1
                        ),
                        "line_no": pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int32),
                        "text": pl.Series(lines, dtype=pl.String),
                    }
                )
            )
    with transaction(con):
        if files:
            con.executemany(
                "insert into raw.files values (?, ?, ?, ?, ?, ?, ?, ?, null)", [list(f) for f in files]
            )
        if lines_frames:
            con.register("incoming_lines", pl.concat(lines_frames).to_arrow())
            con.execute("insert into raw.lines select file_id, line_no, text from incoming_lines")
            con.unregister("incoming_lines")
        _record_paths(con, placed, now)
        _record_rejected(
            con, [(o.path, o.reason or "") for o in outcomes.values() if o.status == "unreadable"], now
        )
        stats = [
            [item.rel_path, *item.stat, outcomes[item.rel_path].file_id]
            for item in batch
            if item.stat is not None and outcomes[item.rel_path].status != "unreadable"
        ]
        if stats:
            con.executemany("insert or replace into raw.path_stats values (?, ?, ?, ?)", stats)
    return [outcomes[item.rel_path] for item in batch]


def load_file(con: duckdb.DuckDBPyConnection, path: Path, rel_path: str) -> FileOutcome:
    """Load one file unless its content is already there; all-or-nothing in one transaction."""
    return load_batch(con, [ToLoad(path, rel_path)])[0]


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _unchanged_since_last_read(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, str]]:
    """path -> (size, mtime_ns, file_id) as last read, for paths whose content is still current."""
    rows = con.execute(
        """
        select s.path, s.size_bytes, s.mtime_ns, s.file_id from raw.path_stats s
        join raw.file_paths p on p.path = s.path and p.file_id = s.file_id and p.superseded_at is null
        """
    ).fetchall()
    return {path: (size, mtime, file_id) for path, size, mtime, file_id in rows}


def load_raw_dir(
    con: duckdb.DuckDBPyConnection,
    raw_dir: Path,
    on_batch: Callable[[list[FileOutcome], Progress], None] | None = None,
) -> LoadReport:
    """Load every new file under raw_dir, LOAD_BATCH files (at most LOAD_BATCH_BYTES) per transaction.
    A path whose size and modification time (ns) are those it had when last read is not read again (at
    100 MB, re-hashing every file cost 14 s per run); any other file costs one hash, and a content
    already loaded (same sha256) is not stored twice. `on_batch` hears of each batch's files as soon
    as they are committed, with files, bytes and rate so far."""
    ensure_schema(con)
    report = LoadReport()
    if not raw_dir.is_dir():
        return report
    paths = list(iter_raw_paths(raw_dir))
    stats = [None if reason else _stat(path) for path, reason in paths]
    progress = Progress("files", len(paths), total_bytes=sum(s[0] for s in stats if s))
    known = _unchanged_since_last_read(con)
    pending: list[ToLoad] = []
    skipped: list[tuple[FileOutcome, int]] = []  # not read this run, with their size
    by_path: dict[str, FileOutcome] = {}

    def flush() -> None:
        outcomes = [o for o, _ in skipped] + (load_batch(con, pending) if pending else [])
        progress.advance(len(outcomes), size=sum(size for _, size in skipped) + _bytes(pending))
        by_path.update((o.path, o) for o in outcomes)
        if on_batch is not None and outcomes:
            on_batch(outcomes, progress)
        pending.clear()
        skipped.clear()

    for (path, reason), stat in zip(paths, stats, strict=True):
        rel_path = path.relative_to(raw_dir).as_posix()
        last = known.get(rel_path)
        if reason:
            skipped.append((record_rejected_path(con, rel_path, reason), 0))
        elif stat is not None and last is not None and last[:2] == stat:
            skipped.append((FileOutcome(rel_path, last[2], "already_loaded"), stat[0]))
        else:
            pending.append(ToLoad(path, rel_path, stat))
        if len(pending) >= LOAD_BATCH or _bytes(pending) >= LOAD_BATCH_BYTES or len(skipped) >= 1000:
            flush()
    flush()
    report.outcomes = [by_path[path.relative_to(raw_dir).as_posix()] for path, _ in paths]
    return report


def _bytes(items: list[ToLoad]) -> int:
    return sum(item.stat[0] for item in items if item.stat)
