"""Analysis of one file's text: language of every line, topics, and the matching features of its
headlines. Pure functions over plain data, so that worker processes can run them (they import no
Dagster and never open the warehouse: DuckDB allows one writer)."""

import atexit
import datetime as dt
import hashlib
import multiprocessing
import os
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa

from assets import language, matching, topics

#: Fewer text lines than this in a run are analysed in-process: the pool costs ~6 s to start (imports
#: and lingua's models in each worker) and halves the time per file (measured on the 10 MB corpus).
POOL_MIN_LINES = 50_000
READ_BATCH = 64  # files read per query


def headline_id(file_id: str, line_no: int) -> str:
    """Same id as marts.headlines (md5 of 'file_id:line_no')."""
    return hashlib.md5(f"{file_id}:{line_no}".encode()).hexdigest()


@dataclass(frozen=True)
class FileText:
    """What analysing one file needs, read from the warehouse; plain data, so a worker process can
    take it (workers never open the warehouse: DuckDB allows one writer)."""

    file_id: str
    day: int  # days since 1970-01-01 of the news (see `landing_day`), for the matching date window
    lines: list[tuple[int, str, str, int]]  # line_no, role, text, word_count
    articles: list[tuple[str, str, str]]  # article_id, title, body


# A date in the landing path: 2026-11-02 or 20261102 in a folder or file name (`date=2026-11-02/`,
# `2026-11-02_desk.txt`), or year/month/day folders (`2026/11/02/`).
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
_DATE_FOLDERS = re.compile(r"(?:^|/)((?:19|20)\d\d)/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])(?:/|$)")
_EPOCH = dt.date(1970, 1, 1)


def landing_day(path: str, loaded_day: int) -> int:
    """The day a file's news is from, as days since 1970-01-01: the last date in its path below the
    landing folder, else the day it was loaded. Desks land files in dated folders, and a backfill
    loads months of them at once: by load day alone every headline would share one day, and the
    matching date window would block nothing."""
    for pattern in (_DATE_FOLDERS, _ISO_DATE):
        for match in reversed(list(pattern.finditer(path))):
            try:
                return (dt.date(*map(int, match.groups())) - _EPOCH).days
            except ValueError:  # 2026-02-30
                continue
    return loaded_day


def file_texts(texts: pa.Table) -> Iterator[FileText]:
    """The FileText of each file in `texts` (rows of intermediate.int_analysis_texts, whole files), in
    file_id order: lines by line number, articles by article_id."""
    rows = texts.sort_by([("file_id", "ascending"), ("line_no", "ascending")]).to_pylist()
    by_file: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_file[row["file_id"]].append(row)
    for file_id in sorted(by_file):
        file_rows = by_file[file_id]
        first = file_rows[0]
        yield FileText(
            file_id,
            landing_day(first["file_path"], first["loaded_day"]),
            [
                (r["line_no"], r["role"], r["text"], r["word_count"])
                for r in file_rows
                if r["role"] != "article"
            ],
            sorted((r["article_id"], r["text"], r["body"]) for r in file_rows if r["role"] == "article"),
        )


def read_file_texts(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> Iterator[FileText]:
    """The FileText of each file, in order, read READ_BATCH files per query: one query per file
    would scan the line table once per file, quadratic in the number of files."""
    for start in range(0, len(file_ids), READ_BATCH):
        batch = file_ids[start : start + READ_BATCH]
        texts = con.execute(
            # a filter, not a semi-join: DuckDB pushes it below the view's union and aggregate
            "select * from intermediate.int_analysis_texts where list_contains(?::varchar[], file_id)",
            [batch],
        ).to_arrow_table()
        found = {text.file_id: text for text in file_texts(texts)}
        for file_id in batch:  # a file with no text line still gets its (empty) analysis
            yield found.get(file_id) or FileText(file_id, 0, [], [])


#: The columns of each frame `analyse_file` returns (the analysis tables' DDL in assets/analysis.py).
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "line_language": {"file_id": pl.String, "line_no": pl.Int32, "language": pl.String,
                      "language_confidence": pl.Float64, "language_method": pl.String},
    "headline_topics": {"file_id": pl.String, "line_no": pl.Int32, "topic": pl.String,
                        "topic_score": pl.Float64, "topics": pl.List(pl.String),
                        "topic_terms": pl.List(pl.String)},
    "article_topics": {"article_id": pl.String, "file_id": pl.String, "language": pl.String,
                       "language_confidence": pl.Float64, "language_method": pl.String,
                       "topic": pl.String, "topic_score": pl.Float64, "topics": pl.List(pl.String),
                       "topic_terms": pl.List(pl.String)},
    "headline_features": matching.FEATURES_SCHEMA,
}  # fmt: skip

_SEPARATOR = "\x1f"  # ASCII unit separator: in no word, stem, number, topic or term


def list_column(rows: list[list[str]]) -> pl.Series:
    """A List(String) column from Python lists, 15x faster than polars' own conversion, which makes
    a Series per row (7.5 of 34 s of analysis per file): each row is joined into one string and split
    again inside polars."""
    joined = pl.Series([_SEPARATOR.join(r) for r in rows], dtype=pl.String)
    empty = pl.Series([not r for r in rows], dtype=pl.Boolean)
    return pl.select(
        pl.when(empty).then(pl.lit([], dtype=pl.List(pl.String))).otherwise(joined.str.split(_SEPARATOR))
    ).to_series()


def _frame(columns: dict[str, list], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            name: list_column(columns[name])
            if dtype == pl.List(pl.String)
            else pl.Series(columns[name], dtype=dtype)
            for name, dtype in schema.items()
        }
    )


def analyse_file(text: FileText) -> dict[str, pl.DataFrame]:
    """Language of every text line, topics of headlines and articles, and the matching features of
    headlines, for one file (pure: no warehouse access)."""
    file_id, lines = text.file_id, text.lines
    detections = language.detect_in_file([t for _, _, t, _ in lines], [w for *_, w in lines])
    by_line = {line_no: det for (line_no, *_), det in zip(lines, detections, strict=True)}
    file_language = language.dominant_language(detections, [w for *_, w in lines])
    line_language = _frame(
        {
            "file_id": [file_id] * len(lines),
            "line_no": [r[0] for r in lines],
            "language": [d.language for d in detections],
            "language_confidence": [d.confidence for d in detections],
            "language_method": [d.method for d in detections],
        },
        SCHEMAS["line_language"],
    )  # fmt: skip
    headlines = [(n, t) for n, role, t, _ in lines if role in ("headline", "related_headline")]
    results = [topics.classify(h, by_line[n].language) for n, h in headlines]
    headline_topics = _frame(
        {
            "file_id": [file_id] * len(headlines),
            "line_no": [n for n, _ in headlines],
            "topic": [r.topic for r in results],
            "topic_score": [r.score for r in results],
            "topics": [r.topics for r in results],
            "topic_terms": [r.matched_terms for r in results],
        },
        SCHEMAS["headline_topics"],
    )  # fmt: skip
    headline_features = _frame(
        {
            "file_id": [file_id] * len(headlines),
            "line_no": [n for n, _ in headlines],
            **matching.feature_rows(
                [headline_id(file_id, n) for n, _ in headlines],
                [h for _, h in headlines],
                [by_line[n].language for n, _ in headlines],
                [text.day] * len(headlines),
            ),
        },
        SCHEMAS["headline_features"],
    )
    article_detections = language.detect_with_file_language(
        [f"{title}. {body}" for _, title, body in text.articles], file_language
    )
    results = [
        topics.classify_article(title, body, det.language)
        for (_, title, body), det in zip(text.articles, article_detections, strict=True)
    ]
    article_topics = _frame(
        {
            "article_id": [a for a, _, _ in text.articles],
            "file_id": [file_id] * len(text.articles),
            "language": [d.language for d in article_detections],
            "language_confidence": [d.confidence for d in article_detections],
            "language_method": [d.method for d in article_detections],
            "topic": [r.topic for r in results],
            "topic_score": [r.score for r in results],
            "topics": [r.topics for r in results],
            "topic_terms": [r.matched_terms for r in results],
        },
        SCHEMAS["article_topics"],
    )  # fmt: skip
    return {
        "line_language": line_language,
        "headline_topics": headline_topics,
        "article_topics": article_topics,
        "headline_features": headline_features,
    }


def _text_lines(con: duckdb.DuckDBPyConnection, file_ids: list[str]) -> int:
    return con.execute(
        "select count(*) from intermediate.int_analysis_texts where role <> 'article' "
        "and list_contains(?::varchar[], file_id)",
        [file_ids],
    ).fetchall()[0][0]


def _one_thread_each() -> None:
    """Worker start-up: lingua's Rust thread pool keeps one thread per core spinning after each batch,
    so with one worker per core the workers took each other's CPU (1.2x the speed of one process
    instead of 1.8x, measured on 700 bench files). The pool already uses every core."""
    os.environ["RAYON_NUM_THREADS"] = "1"


def _warm_worker(parent: int) -> None:
    """Start-up of the warm worker: load every model the analysis uses, then exit if the run's
    process goes (a killed run must not leave it behind). It ends without the interpreter's teardown:
    it has nothing to flush, and the teardown of DuckDB's bindings printed leak reports."""
    atexit.register(os._exit, 0)  # registered last, so it runs first at exit
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    language.load_models()
    topics.load_rules()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


_warm: list[ProcessPoolExecutor] = []  # at most one, kept for the life of this process


def warm_up() -> Future[int] | None:
    """Start a worker process that loads the analysis' models now, for a run that will analyse a few
    new files later in this process (the in-process executor). Loading lingua's models takes about
    7 s of one core and holds the GIL, so loading them in a thread would stall the run's dbt steps
    and gates; in a process of its own it uses the core they leave idle, and the analysis finds the
    models loaded. The worker serves every later run of this process. Returns the worker's first task,
    done once the models are loaded (None when the worker was already started)."""
    if _warm:
        return None
    context = multiprocessing.get_context("spawn")  # never fork a process holding DuckDB and Dagster
    pool = ProcessPoolExecutor(1, mp_context=context, initializer=_warm_worker, initargs=(os.getpid(),))
    _warm.append(pool)
    return pool.submit(int)  # the executor starts its worker on the first task, after the initializer


def warm_worker() -> bool:
    """Whether this process has a warm worker (`warm_up`)."""
    return bool(_warm)


def cool_down(wait: bool = False) -> None:
    """Stop the warm worker: the run is large enough for a pool of its own (memory for one copy of
    the models per worker), or is to stay in this process, or the process ends (`wait`: until the
    worker has exited)."""
    while _warm:
        _warm.pop().shutdown(wait=wait, cancel_futures=True)


def _analysed(text: FileText) -> dict[str, pl.DataFrame]:
    """`analyse_file` in the warm worker when there is one, else here."""
    if _warm:
        try:
            return _warm[0].submit(analyse_file, text).result()
        except BrokenProcessPool:  # the worker died (killed, out of memory): carry on here
            _warm.clear()
    return analyse_file(text)


_UNITS = {"bytes": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def _half_memory_limit(con: duckdb.DuckDBPyConnection) -> str | None:
    """Half the connection's memory limit, as DuckDB takes it (it reports the limit as '1.8 GiB');
    None for a limit it reports otherwise."""
    reported = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    match = re.fullmatch(r"([\d.]+) (bytes|KiB|MiB|GiB|TiB)", reported)
    return f"{int(float(match[1]) * _UNITS[match[2]] / 2)}B" if match else None


def analyse_files(
    con: duckdb.DuckDBPyConnection, file_ids: list[str], workers: int, memory_limit: str | None = None
) -> Iterator[tuple[str, dict[str, pl.DataFrame]]]:
    """(file_id, frames) for each file, in order. With many files, worker processes analyse them
    (Python text steps use one core each); this process reads inputs and keeps at most a few files
    in flight, so memory stays flat at any corpus size. A few files go to the warm worker when the
    run started one (`warm_up`), else are analysed here.

    While the workers run, each holding the models (about 0.75 GB), this process only reads texts
    and hands results back, so its DuckDB gets half its memory limit, and `memory_limit` (the
    connection's own, exactly as configured) again once they are done: at 1 GB of news the run's
    peak memory was in this stage, 4,063 MiB for the process tree against a 4 GiB target."""
    texts = read_file_texts(con, file_ids)
    pooled = workers > 1 and _text_lines(con, file_ids) >= POOL_MIN_LINES
    if pooled or workers == 1:  # a pool of its own, or asked to stay in this process
        cool_down()
    if not pooled:
        for text in texts:
            yield text.file_id, _analysed(text)
        return
    half = _half_memory_limit(con) if memory_limit else None
    if half:
        con.execute(f"set memory_limit = '{half}'")
    context = multiprocessing.get_context("spawn")  # never fork a process holding DuckDB and Dagster
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread_each) as pool:
            pending: deque[tuple[str, Future]] = deque()
            for text in texts:
                pending.append((text.file_id, pool.submit(analyse_file, text)))
                if len(pending) > 2 * workers:
                    done_id, future = pending.popleft()
                    yield done_id, future.result()
            while pending:
                done_id, future = pending.popleft()
                yield done_id, future.result()
    finally:
        if half:
            con.execute(f"set memory_limit = '{memory_limit}'")
