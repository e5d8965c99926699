"""Ingest that fans out: the landing folder decoded day by day straight to Parquet, with no DuckDB
write, so any number of processes or machines can do it at once (DuckDB allows one writer; a Parquet
file per landed file allows as many as there are files).

A day is the date in a file's landing path (`date=2026-10-01/`, `2026/10/01/`, `…_20261001.txt`, as
`file_analysis.landing_day` reads it), or `undated`. Each landed file becomes one Parquet file,
`<root>/landing/day=<day>/<sha256>.parquet` (file_id, path, line_no, text, encoding), named by its
content: a rerun, or a second worker given the same day, writes the same file again and never a
duplicate row. A file that cannot be decoded is listed in the day's result with the reason, and the
other files of the day go on.

Two ways to run it:
- the asset `landing/day_parquet`, partitioned by day (`landing_days`, filled by a sensor): a backfill
  of many days is one run per day, which a run launcher spreads over processes or pods;
- the job in orchestration/workers.py, which maps days over a Celery worker fleet in one run.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from assets.decoding import UndecodableError, decode_bytes, sha256_hex, split_lines
from assets.file_analysis import landing_day
from assets.raw_store import iter_raw_paths
from orchestration.resources import NewsroomPaths
from orchestration.settings import PIPELINE_OWNER

UNDATED = "undated"
LINES_SCHEMA = pa.schema(
    [
        ("file_id", pa.string()),
        ("path", pa.string()),
        ("line_no", pa.int32()),
        ("text", pa.string()),
        ("encoding", pa.string()),
    ]
)
_EPOCH = dt.date(1970, 1, 1)
COLUMNS = {
    "file_id": "sha256 of the file's bytes (also the Parquet file's name).",
    "path": "Path of the file below the landing folder.",
    "line_no": "1-based physical line number.",
    "text": "Decoded line text as written.",
    "encoding": "Encoding the file was decoded with.",
}

landing_days = dg.DynamicPartitionsDefinition(name="landing_days")


def day_key(rel_path: str) -> str:
    """The landing day of a path below the landing folder: `YYYY-MM-DD`, or `undated`."""
    day = landing_day(rel_path, -1)
    return UNDATED if day < 0 else (_EPOCH + dt.timedelta(days=day)).isoformat()


def files_by_day(raw_dir: Path) -> dict[str, list[str]]:
    """Every readable landed file's path (relative to raw_dir), by landing day, sorted."""
    days: dict[str, list[str]] = defaultdict(list)
    for path, reason in iter_raw_paths(raw_dir):
        if reason is None:
            rel_path = path.relative_to(raw_dir).as_posix()
            days[day_key(rel_path)].append(rel_path)
    return {day: sorted(paths) for day, paths in sorted(days.items())}


@dataclass
class DayResult:
    """What writing one day did."""

    day: str
    files_written: int = 0
    files_already_there: int = 0
    lines: int = 0
    rejected: dict[str, str] = field(default_factory=dict)  # path -> reason


def write_day(raw_dir: Path, root: str, day: str, rel_paths: list[str]) -> DayResult:
    """Decode `rel_paths` (files of one landing day) and write each as a Parquet file under
    `<root>/landing/day=<day>/` (a local folder; on object storage, a mounted or fsspec path)."""
    result = DayResult(day)
    folder = Path(root) / "landing" / f"day={day}"
    folder.mkdir(parents=True, exist_ok=True)
    for rel_path in rel_paths:
        try:
            data = (raw_dir / rel_path).read_bytes()
        except OSError as exc:
            result.rejected[rel_path] = f"cannot be read: {exc.strerror or exc}"
            continue
        file_id = sha256_hex(data)
        target = folder / f"{file_id}.parquet"
        if target.exists():
            result.files_already_there += 1
            continue
        try:
            decoded = decode_bytes(data)
        except UndecodableError as exc:
            result.rejected[rel_path] = str(exc)
            continue
        lines = split_lines(decoded.text)
        table = pa.table(
            {
                "file_id": [file_id] * len(lines),
                "path": [rel_path] * len(lines),
                "line_no": list(range(1, len(lines) + 1)),
                "text": lines,
                "encoding": [decoded.encoding] * len(lines),
            },
            schema=LINES_SCHEMA,
        )
        partial = target.with_suffix(".parquet.partial")  # never a half-written file under its real name
        pq.write_table(table, partial)
        partial.replace(target)
        result.files_written += 1
        result.lines += len(lines)
    return result


def day_metadata(result: DayResult) -> dict[str, object]:
    return {
        "day": result.day,
        "files_written": result.files_written,
        "files_already_there": result.files_already_there,
        "lines_written": result.lines,
        "files_rejected": len(result.rejected),
        "rejected": dg.MetadataValue.json(result.rejected),
    }


@dg.asset(
    key=["landing", "day_parquet"],
    group_name="landing",
    partitions_def=landing_days,
    kinds={"python", "parquet"},
    owners=[PIPELINE_OWNER],
    description="One landing day's files decoded to Parquet (one file per landed file, named by its "
    "sha256) under <parquet>/landing/day=<day>/. Writes no DuckDB, so days run in parallel.",
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(field.name, str(field.type), description=COLUMNS[field.name])
                for field in LINES_SCHEMA
            ]
        )
    },
)
def landing_parquet(context: dg.AssetExecutionContext, paths: NewsroomPaths) -> dg.MaterializeResult:
    """Decode one day's landed files to Parquet; a file already written (same content) is skipped."""
    if not paths.parquet:
        raise dg.Failure("no Parquet root: set NEWSROOM_PARQUET to where landed files should be written")
    day = context.partition_key
    rel_paths = files_by_day(paths.raw_path).get(day, [])
    result = write_day(paths.raw_path, paths.parquet, day, rel_paths)
    for path, reason in result.rejected.items():
        context.log.warning(f"not written {path}: {reason}")
    return dg.MaterializeResult(metadata=day_metadata(result))
