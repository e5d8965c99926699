"""Text analysis asset: language, topics, duplicate headlines and stories.

Runs between the intermediate gate and the marts. Language and topics are computed per file and
kept (a file's content never changes, its sha256 is its id), so a run only analyses new files or
files analysed under older rules; with many new files, worker processes share the work
(assets/file_analysis.py). Matching looks across all headlines, in DuckDB SQL, from the
per-headline features stored with each file (assets/matching.py): new files' headlines are added to
the last match, and every headline is matched again when the rules change, a matched file goes, or
the set has grown by `rematch_growth` since the last full match (`plan_matching`). On the spark
target the same functions run on Spark instead (`_analyse_on_spark`), every file each run.
"""

import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl
from pydantic import Field

from assets import language, matching, parquet_store, topics
from assets.file_analysis import POOL_MIN_LINES, analyse_files, warm_worker
from assets.normalize import matching_rules
from assets.progress import Progress
from assets.raw_store import transaction
from orchestration.layer_sql import sql_digest
from orchestration.metadata import python_table_metadata, table_metadata
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import PIPELINE_OWNER, WRITER_POOL

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
create table if not exists intermediate.matching_state (
    analysis_version varchar, headlines bigint, headlines_at_full bigint, full_at timestamp,
    matched_at timestamp, mode varchar, reason varchar);
create table if not exists intermediate.matched_files (file_id varchar);
-- what each incremental match since the last full match changed (a full match empties them): the
-- marts apply these rows instead of comparing millions of headlines and pairs (macros/marts.sql)
create table if not exists intermediate.regrouped_headlines (matched_at timestamp, headline_id varchar);
create table if not exists intermediate.pair_changes (
    matched_at timestamp, change varchar, headline_id_a varchar, headline_id_b varchar, relation varchar,
    score double, rule varchar);
"""
    + matching.FEATURES_DDL
    + matching.TOKEN_DAYS_DDL
)
CURRENT_FILES = "select file_id from raw.files where status = 'loaded' and superseded_at is null"


def analysis_version() -> str:
    """Results made under other rules are redone: topic and matching rules, detector settings, and
    the dbt seeds and models that decide which lines are headlines."""
    digest = hashlib.sha256()
    digest.update(f"{topics.load_rules().version}|{matching_rules()['version']}|{FEATURES_VERSION}".encode())
    digest.update(
        f"{language.LANGUAGES}|{language.CONFIDENT}|{language.MARGIN}|{language.CANDIDATE}|"
        f"{language.SCREEN_CONFIDENT}".encode()
    )
    digest.update(sql_digest("intermediate").encode())  # which lines are headlines, and their text
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


@dataclass(frozen=True)
class MatchPlan:
    """How this run matches: `full` (every headline again), `incremental` (the new files' headlines
    added to the last match) or `none` (nothing new), and why."""

    mode: str
    reason: str
    new_files: list[str]


def plan_matching(
    con: duckdb.DuckDBPyConnection, version: str, rematch: bool = False, growth: float = 0.1
) -> MatchPlan:
    """Incremental when the last match holds: same rules, every file it matched still current, and
    fewer new headlines since the last full match than `growth` of what that match had. Pairs
    between older headlines are then kept as they were scored (their IDF weights and rare-word
    blocking are those of that time), so a full match runs again once the set has grown by
    `growth`: the drift stays bounded, and `docs/benchmarks.md` measures it."""
    state = con.execute(
        "select analysis_version, headlines, headlines_at_full from intermediate.matching_state"
    ).fetchall()
    if rematch:
        return MatchPlan("full", "a full match was asked for (rematch)", [])
    if not state:
        return MatchPlan("full", "first match", [])
    matched_version, headlines, at_full = state[0]
    if matched_version != version:
        return MatchPlan("full", f"the analysis rules changed ({matched_version} -> {version})", [])
    gone = con.execute(
        f"select count(*) from intermediate.matched_files where file_id not in ({CURRENT_FILES})"
    ).fetchall()[0][0]
    if gone:
        return MatchPlan("full", f"{gone} matched files are no longer current", [])
    new_files = [
        r[0]
        for r in con.execute(
            f"select file_id from ({CURRENT_FILES}) "
            "where file_id not in (select file_id from intermediate.matched_files) order by 1"
        ).fetchall()
    ]
    if not new_files:
        return MatchPlan("none", "no new files since the last match", [])
    new_headlines = con.execute(
        "select count(*) from intermediate.headline_features where list_contains(?::varchar[], file_id)",
        [new_files],
    ).fetchall()[0][0]
    if headlines + new_headlines > (1 + growth) * at_full:
        return MatchPlan(
            "full", f"{headlines + new_headlines - at_full} headlines since the last full match "
            f"exceed {growth:.0%} of its {at_full}", new_files,
        )  # fmt: skip
    return MatchPlan("incremental", f"{len(new_files)} new files, {new_headlines} headlines", new_files)


def _match_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _record_match(
    con: duckdb.DuckDBPyConnection, version: str, plan: MatchPlan, headlines: int, now: dt.datetime
) -> None:
    """The state the next run's plan reads: a full match resets the growth count, an incremental
    one carries it forward."""
    if plan.mode == "full":
        at_full, full_at = headlines, now
    else:
        at_full, full_at = con.execute(
            "select headlines_at_full, full_at from intermediate.matching_state"
        ).fetchall()[0]
    con.execute("delete from intermediate.matching_state")
    con.execute(
        "insert into intermediate.matching_state values (?, ?, ?, ?, ?, ?, ?)",
        [version, headlines, at_full, full_at, now, plan.mode, plan.reason],
    )


def no_full_match_since(con: duckdb.DuckDBPyConnection, since: dt.datetime | None) -> bool:
    """Whether the match log and the `matched_at` stamps tell every change since `since`: no full
    match ran after it (a full match empties the log and can split groups). Publish and the marts
    gate ask this; the dbt marts state the same rule in SQL (`match_log_since`, macros/marts.sql)."""
    if since is None:
        return False
    try:
        full_at = con.execute("select max(full_at) from intermediate.matching_state").fetchall()[0][0]
    except duckdb.CatalogException:  # nothing matched yet
        return False
    return full_at is not None and full_at <= since


def match_all(con: duckdb.DuckDBPyConnection, version: str, plan: MatchPlan) -> None:
    """Duplicate groups and stories over every current headline, in SQL (assets/matching.py):
    rewrites intermediate.headline_pairs and intermediate.headline_matches, and the word counts and
    state the next incremental match starts from. Beyond the warehouse's memory limit (the Warehouse
    resource's, as for every writer) DuckDB spills the joins to disk."""
    con.execute(
        f"""
        drop table if exists main.current_groups;  -- left by earlier versions
        create or replace temp table current_features as
        select h.* from intermediate.headline_features h where h.file_id in ({CURRENT_FILES})
        """
    )
    con.execute(
        f"create or replace table intermediate.matching_token_days as {matching.token_days_sql('current_features')}"
    )
    matching.match(
        con,
        "current_features",
        "intermediate.headline_pairs",
        "current_groups",
        token_days="intermediate.matching_token_days",
    )
    con.execute(
        f"""
        create or replace table intermediate.headline_matches as
        select h.headline_id, h.file_id, h.line_no, h.normalized_text, g.duplicate_group_id, g.story_id
        from current_features h join current_groups g using (headline_id)
        order by h.file_id, h.line_no;
        delete from intermediate.matched_files;
        insert into intermediate.matched_files {CURRENT_FILES};
        delete from intermediate.regrouped_headlines;  -- the marts compare everything after a full match
        delete from intermediate.pair_changes;
        """
    )
    headlines = con.execute("select count(*) from current_features").fetchall()[0][0]
    _record_match(con, version, plan, headlines, _match_time())
    con.execute("drop table current_features; drop table current_groups")


def match_incremental(con: duckdb.DuckDBPyConnection, version: str, plan: MatchPlan) -> int:
    """Add the new files' headlines to the last match (matching.match_new and merge_new): their
    pairs are appended, and only the groups they join are renamed. Returns the older headlines whose
    group changed."""
    con.execute(
        """
        create or replace temp table new_features as
        select * from intermediate.headline_features where list_contains(?::varchar[], file_id)
        """,
        [plan.new_files],
    )
    con.execute(
        "create or replace temp view known_features as select * from intermediate.headline_features "
        "where file_id in (select file_id from intermediate.matched_files union all "
        "select file_id from new_features)"
    )
    before = con.execute("select headlines from intermediate.matching_state").fetchall()[0][0]
    headlines = before + con.execute("select count(*) from new_features").fetchall()[0][0]
    matching.add_token_days(con, "new_features", "intermediate.matching_token_days")
    matching.match_new(
        con, "known_features", "new_features", "intermediate.matching_token_days", headlines, "new_pairs"
    )
    now = _match_time()
    matching.drop_rechained(con, "known_features", "new_features", "intermediate.headline_pairs", "rechained")
    con.execute("insert into intermediate.headline_pairs select * from new_pairs")
    changed = matching.merge_new(
        con, "new_features", "new_pairs", "intermediate.headline_matches", "regrouped"
    )
    con.execute(
        "insert into intermediate.pair_changes "
        "select ?, 'removed', * from rechained union all select ?, 'added', * from new_pairs",
        [now, now],
    )
    con.execute(
        "insert into intermediate.regrouped_headlines "
        "select ?, headline_id from regrouped union select ?, headline_id from new_features",
        [now, now],
    )
    con.execute("drop table rechained; drop table regrouped")
    con.executemany("insert into intermediate.matched_files values (?)", [[f] for f in plan.new_files])
    _record_match(con, version, plan, headlines, now)
    con.execute("drop view known_features; drop table new_features; drop table new_pairs")
    return changed


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
    rematch: bool = Field(
        default=False,
        description="Match every headline again, even when only new files came: rescores every "
        "older pair with today's word weights.",
    )
    rematch_growth: float = Field(
        default=0.1,
        ge=0.0,
        description="New files' headlines are added to the last match until the headlines since the last "
        "full match exceed this fraction of it; then every headline is matched again.",
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
    """Analyse new files (language, topics), then match their headlines (duplicates, stories): added
    to the last match, or every headline again (`plan_matching`)."""
    version = analysis_version()
    if paths.on_spark:
        yield from _analyse_on_spark(context, paths, version)
        return
    with duckdb.get_connection() as con:
        con.execute(DDL)
        todo = _files_to_analyse(con, version)
        context.log.info(
            f"analysing {len(todo)} new or re-ruled files (version {version})"
            + (" (in the worker that loaded the models meanwhile, if they are few)" if warm_worker() else "")
        )
        progress, last_log, started = Progress("files", len(todo)), time.monotonic(), time.perf_counter()
        workers = config.workers or os.cpu_count() or 1
        batch: list[tuple[str, dict[str, pl.DataFrame]]] = []
        for file_id, frames in analyse_files(con, todo, workers, duckdb.memory_limit):
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
        plan = plan_matching(con, version, config.rematch, config.rematch_growth)
        context.log.info(f"matching ({plan.mode}): {plan.reason}")
        started, regrouped = time.perf_counter(), 0
        with transaction(con):
            if plan.mode == "full":
                match_all(con, version, plan)
            elif plan.mode == "incremental":
                regrouped = match_incremental(con, version, plan)
        seconds_matching = time.perf_counter() - started
        relations = dict(
            con.execute("select relation, count(*) from intermediate.headline_pairs group by all").fetchall()
        )
        headlines = con.execute("select count(*) from intermediate.headline_matches").fetchall()[0][0]
        context.log.info(
            f"matched {headlines} headlines: {sum(relations.values())} linked pairs "
            f"({relations.get('duplicate', 0)} duplicate, {relations.get('story', 0)} story); "
            f"{regrouped} older headlines changed group"
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
            "matching": f"{plan.mode}: {plan.reason}",
        }
        if name == "headline_pairs":
            metadata |= {
                "duplicate_pairs": relations.get("duplicate", 0),
                "story_pairs": relations.get("story", 0),
            }
        yield dg.MaterializeResult(asset_key=["intermediate", name], metadata=metadata)
