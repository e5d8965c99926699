"""Text analysis asset: language, topics, duplicate headlines and stories.

Runs between the intermediate gate and the marts. Language and topics are computed per file and
kept (a file's content never changes, its sha256 is its id), so a run only analyses new files or
files analysed under older rules; with many new files, worker processes share the work
(assets/file_analysis.py). Matching looks across all headlines, so it is recomputed each run, in
DuckDB SQL, from the per-headline features stored with each file (assets/matching.py). On the spark
target the same functions run on Spark instead (`_analyse_on_spark`).
"""

import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterator

import dagster as dg
import duckdb
import polars as pl
from pydantic import Field

from assets import language, matching, parquet_store, topics
from assets.file_analysis import POOL_MIN_LINES, analyse_files
from assets.normalize import matching_rules
from assets.progress import Progress
from assets.raw_store import transaction
from orchestration.metadata import python_table_metadata, table_metadata
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import PIPELINE_OWNER, WRITER_POOL, dbt_file_bytes

KEYS = {
    "line_language": "Language of every headline, title, heading and paragraph line (fastText screen, lingua, file tie-breaker).",
    "headline_topics": "Topic of every headline: best topic, score, all topics that apply, matched terms.",
    "article_topics": "Language and topic of every article (title counts double).",
    "headline_features": "What matching compares per headline: normalised text, stemmed words, numbers, direction.",
    "headline_matches": "Normalised text, duplicate group and story of every headline.",
    "headline_pairs": "Every linked headline pair: duplicate or story, its score and the rule that linked it.",
}
STORE_BATCH = 64  # analysed files written per transaction
FEATURES_VERSION = 2  # bump when what `analyse_file` stores changes, in shape or meaning (2: landing day)

DDL = (
    """
create schema if not exists intermediate;
create table if not exists intermediate.analysed_files (file_id varchar primary key, analysis_version varchar, analysed_at timestamp);
create table if not exists intermediate.line_language (
    file_id varchar, line_no integer, language varchar, language_confidence double, language_method varchar);
create table if not exists intermediate.headline_topics (
    file_id varchar, line_no integer, topic varchar, topic_score double, topics varchar[], topic_terms varchar[]);
create table if not exists intermediate.article_topics (
    article_id varchar, file_id varchar, language varchar, language_confidence double, language_method varchar,
    topic varchar, topic_score double, topics varchar[], topic_terms varchar[]);
create table if not exists intermediate.headline_matches (
    headline_id varchar, file_id varchar, line_no integer, normalized_text varchar,
    duplicate_group_id varchar, story_id varchar);
create table if not exists intermediate.headline_pairs (
    headline_id_a varchar, headline_id_b varchar, relation varchar, score double, rule varchar);
"""
    + matching.FEATURES_DDL
)


def analysis_version() -> str:
    """Results made under other rules are redone: topic and matching rules, detector settings, and
    the dbt seeds and models that decide which lines are headlines."""
    digest = hashlib.sha256()
    digest.update(f"{topics.load_rules().version}|{matching_rules()['version']}|{FEATURES_VERSION}".encode())
    digest.update(
        f"{language.LANGUAGES}|{language.CONFIDENT}|{language.MARGIN}|{language.CANDIDATE}|"
        f"{language.SCREEN_CONFIDENT}".encode()
    )
    for content in dbt_file_bytes("seeds/*.csv", "models/[si]*/*.sql"):
        digest.update(content)
    return digest.hexdigest()[:12]


def _files_to_analyse(con: duckdb.DuckDBPyConnection, version: str) -> list[str]:
    rows = con.execute(
        """
        select f.file_id from raw.files f
        left join intermediate.analysed_files a on a.file_id = f.file_id and a.analysis_version = ?
        where f.status = 'loaded' and f.superseded_at is null and a.file_id is null
        order by f.file_id
        """,
        [version],
    ).fetchall()
    return [r[0] for r in rows]


def store_files(
    con: duckdb.DuckDBPyConnection, results: list[tuple[str, dict[str, pl.DataFrame]]], version: str
) -> None:
    """Replace some files' analysis in one transaction: never half-written, never duplicated.
    Files are stored in batches: each delete scans its table once, whatever the batch size."""
    if not results:
        return
    file_ids = [file_id for file_id, _ in results]
    with transaction(con):
        for table in results[0][1]:
            con.execute(
                f"delete from intermediate.{table} where file_id in (select unnest(?::varchar[]))", [file_ids]
            )
            con.register("incoming", pl.concat([frames[table] for _, frames in results]).to_arrow())
            con.execute(f"insert into intermediate.{table} by name select * from incoming")
            con.unregister("incoming")
        con.execute(
            "delete from intermediate.analysed_files where file_id in (select unnest(?::varchar[]))",
            [file_ids],
        )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.executemany(
            "insert into intermediate.analysed_files values (?, ?, ?)", [[f, version, now] for f in file_ids]
        )


def match_all(con: duckdb.DuckDBPyConnection) -> None:
    """Duplicate groups and stories over every current headline, in SQL (assets/matching.py):
    rewrites intermediate.headline_pairs and intermediate.headline_matches. Beyond the warehouse's
    memory limit (the Warehouse resource's, as for every writer) DuckDB spills the joins to disk."""
    con.execute(
        """
        create or replace temp table current_features as
        select h.* from intermediate.headline_features h
        join raw.files f on f.file_id = h.file_id and f.status = 'loaded' and f.superseded_at is null
        """
    )
    matching.match(con, "current_features", "intermediate.headline_pairs", "current_groups")
    con.execute(
        """
        create or replace table intermediate.headline_matches as
        select h.headline_id, h.file_id, h.line_no, h.normalized_text, g.duplicate_group_id, g.story_id
        from current_features h join current_groups g using (headline_id)
        order by h.file_id, h.line_no
        """
    )


def _analyse_on_spark(
    context: dg.AssetExecutionContext, paths: NewsroomPaths, version: str
) -> Iterator[dg.MaterializeResult]:
    """On the spark target: the same functions over the Spark build's int_analysis_texts, every file
    each run (orchestration/spark_target.py), written as Parquet where the marts' sources read it."""
    from orchestration.spark_target import analyse_in_process

    started = time.perf_counter()
    counts = analyse_in_process(paths.spark_path, f"{paths.parquet.rstrip('/')}/intermediate")
    seconds = round(time.perf_counter() - started, 2)
    context.log.info(f"analysed on Spark in {seconds} s: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    for name in KEYS:
        yield dg.MaterializeResult(
            asset_key=["intermediate", name],
            metadata={
                "dagster/row_count": dg.MetadataValue.int(counts[name]),
                "engine": "spark",
                "analysis_version": version,
                "seconds_on_spark": seconds,
            },
        )


class AnalysisConfig(dg.Config):
    """How text analysis runs."""

    workers: int = Field(
        default=0,
        description="Worker processes for language, topics and features when a run has at least "
        f"{POOL_MIN_LINES:,} new text lines; 0 means one per core, 1 analyses in the run's own process.",
    )


@dg.multi_asset(
    name="text_analysis",
    specs=[
        dg.AssetSpec(
            ["intermediate", name],
            group_name="intermediate",
            kinds={"python", "duckdb", "polars"},
            owners=[PIPELINE_OWNER],
            description=description,
            deps=[["intermediate", "int_analysis_texts"]],
            metadata=python_table_metadata(DDL, f"intermediate.{name}", source="analysis"),
        )
        for name, description in KEYS.items()
    ],
    pool=WRITER_POOL,
)
def text_analysis(
    context: dg.AssetExecutionContext, config: AnalysisConfig, duckdb: Warehouse, paths: NewsroomPaths
):
    """Analyse new files (language, topics), then match every headline (duplicates, stories)."""
    version = analysis_version()
    if paths.on_spark:
        yield from _analyse_on_spark(context, paths, version)
        return
    with duckdb.get_connection() as con:
        con.execute(DDL)
        todo = _files_to_analyse(con, version)
        context.log.info(f"analysing {len(todo)} new or re-ruled files (version {version})")
        progress, last_log, started = Progress("files", len(todo)), time.monotonic(), time.perf_counter()
        workers = config.workers or os.cpu_count() or 1
        batch: list[tuple[str, dict[str, pl.DataFrame]]] = []
        for file_id, frames in analyse_files(con, todo, workers):
            batch.append((file_id, frames))
            if len(batch) == STORE_BATCH:
                store_files(con, batch, version)
                batch = []
            progress.advance()
            # a line every 50 files or 10 s, whichever comes first: never silent for long
            if progress.done % 50 == 0 or progress.done == len(todo) or time.monotonic() - last_log > 10:
                context.log.info(f"language and topics [{progress.line()}]")
                last_log = time.monotonic()
        store_files(con, batch, version)
        seconds_language_topics = time.perf_counter() - started
        context.log.info("matching every headline: duplicates and stories")
        started = time.perf_counter()
        with transaction(con):
            match_all(con)
        seconds_matching = time.perf_counter() - started
        relations = dict(
            con.execute("select relation, count(*) from intermediate.headline_pairs group by all").fetchall()
        )
        headlines = con.execute("select count(*) from intermediate.headline_matches").fetchall()[0][0]
        context.log.info(
            f"matched {headlines} headlines: {sum(relations.values())} linked pairs "
            f"({relations.get('duplicate', 0)} duplicate, {relations.get('story', 0)} story)"
        )
        if paths.parquet:
            parquet_store.write_analysis(con, paths.parquet, KEYS)
        tables = {name: table_metadata(con, f"intermediate.{name}") for name in KEYS}
    for name in KEYS:
        metadata = {
            **tables[name],
            "analysis_version": version,
            "files_analysed": len(todo),
            "seconds_language_topics": round(seconds_language_topics, 2),
            "seconds_matching": round(seconds_matching, 2),
        }
        if name == "headline_pairs":
            metadata |= {
                "duplicate_pairs": relations.get("duplicate", 0),
                "story_pairs": relations.get("story", 0),
            }
        yield dg.MaterializeResult(asset_key=["intermediate", name], metadata=metadata)
