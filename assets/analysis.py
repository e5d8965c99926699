"""Text analysis asset: language, topics, duplicate headlines and stories.

Runs between the intermediate gate and the marts. Language and topics are computed per file and
kept (a file's content never changes, its sha256 is its id), so a run only analyses new files or
files analysed under older rules. Matching looks across all headlines, so it is recomputed each run
from the stored per-headline features (cheap next to detection).
"""

import datetime as dt
import hashlib
import time

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from assets import language, matching, topics
from assets.normalize import matching_rules
from assets.progress import Progress
from assets.raw_store import transaction
from orchestration.metadata import python_table_metadata, table_metadata
from orchestration.settings import DBT_PROJECT_DIR, PIPELINE_OWNER, WRITER_POOL

KEYS = {
    "line_language": "Language of every headline, title, heading and paragraph line (lingua + file tie-breaker).",
    "headline_topics": "Topic of every headline: best topic, score, all topics that apply, matched terms.",
    "article_topics": "Language and topic of every article (title counts double).",
    "headline_features": "What matching compares per headline: normalised text, stemmed words, numbers, direction.",
    "headline_matches": "Normalised text, duplicate group and story of every headline.",
    "headline_pairs": "Every linked headline pair: duplicate or story, its score and the rule that linked it.",
}
FEATURES_VERSION = 1  # bump when what `analyse_file` stores changes shape
TEXT_ROLES = ("headline", "related_headline", "article_title", "section_heading", "paragraph")

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
        f"{language.LANGUAGES}|{language.CONFIDENT}|{language.MARGIN}|{language.CANDIDATE}".encode()
    )
    for path in sorted(DBT_PROJECT_DIR.glob("seeds/*.csv")) + sorted(
        DBT_PROJECT_DIR.glob("models/[si]*/*.sql")
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def headline_id(file_id: str, line_no: int) -> str:
    """Same id as marts.headlines (md5 of 'file_id:line_no')."""
    return hashlib.md5(f"{file_id}:{line_no}".encode()).hexdigest()


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


def analyse_file(con: duckdb.DuckDBPyConnection, file_id: str) -> dict[str, pl.DataFrame]:
    """Language of every text line, topics of headlines and articles, for one file."""
    lines = con.execute(
        f"""
        select line_no, role, text, word_count from intermediate.int_line_roles
        where file_id = ? and role in {TEXT_ROLES} order by line_no
        """,
        [file_id],
    ).fetchall()
    detections = language.detect_in_file([t for _, _, t, _ in lines], [w for *_, w in lines])
    by_line = {line_no: det for (line_no, *_), det in zip(lines, detections, strict=True)}
    file_language = language.dominant_language(detections, [w for *_, w in lines])
    line_language = pl.DataFrame(
        {
            "file_id": [file_id] * len(lines),
            "line_no": [r[0] for r in lines],
            "language": [d.language for d in detections],
            "language_confidence": [d.confidence for d in detections],
            "language_method": [d.method for d in detections],
        },
        schema={"file_id": pl.String, "line_no": pl.Int32, "language": pl.String,
                "language_confidence": pl.Float64, "language_method": pl.String},
    )  # fmt: skip
    headline_rows, headlines = (
        [],
        [(n, text) for n, role, text, _ in lines if role in ("headline", "related_headline")],
    )
    for line_no, text in headlines:
        result = topics.classify(text, by_line[line_no].language)
        headline_rows.append(
            (file_id, line_no, result.topic, result.score, result.topics, result.matched_terms)
        )
    day = con.execute(
        "select date_diff('day', date '1970-01-01', cast(loaded_at as date)) from raw.files where file_id = ?",
        [file_id],
    ).fetchall()[0][0]
    headline_features = pl.DataFrame(
        {
            "file_id": file_id,
            "line_no": [n for n, _ in headlines],
            **matching.feature_rows(
                [headline_id(file_id, n) for n, _ in headlines],
                [text for _, text in headlines],
                [by_line[n].language for n, _ in headlines],
                day,
            ),
        },
        schema=matching.FEATURES_SCHEMA,
    )
    headline_topics = pl.DataFrame(
        headline_rows,
        schema={"file_id": pl.String, "line_no": pl.Int32, "topic": pl.String, "topic_score": pl.Float64,
                "topics": pl.List(pl.String), "topic_terms": pl.List(pl.String)},
        orient="row",
    )  # fmt: skip
    articles = con.execute(
        """
        select p.article_id, any_value(t.text) as title, string_agg(p.text, ' ' order by p.line_no) as body
        from intermediate.int_paragraphs p
        join intermediate.int_line_roles t on t.file_id = p.file_id and t.line_no = p.title_line
        where p.file_id = ? group by p.article_id order by p.article_id
        """,
        [file_id],
    ).fetchall()
    article_rows = []
    article_detections = language.detect_raw([f"{title}. {body}" for _, title, body in articles])
    for (article_id, title, body), det in zip(articles, article_detections, strict=True):
        det = language.resolve(det, file_language)
        result = topics.classify_article(title, body, det.language)
        article_rows.append((article_id, file_id, det.language, det.confidence, det.method,
                             result.topic, result.score, result.topics, result.matched_terms))  # fmt: skip
    article_topics = pl.DataFrame(
        article_rows,
        schema={"article_id": pl.String, "file_id": pl.String, "language": pl.String,
                "language_confidence": pl.Float64, "language_method": pl.String, "topic": pl.String,
                "topic_score": pl.Float64, "topics": pl.List(pl.String), "topic_terms": pl.List(pl.String)},
        orient="row",
    )  # fmt: skip
    return {
        "line_language": line_language,
        "headline_topics": headline_topics,
        "article_topics": article_topics,
        "headline_features": headline_features,
    }


def store_file(
    con: duckdb.DuckDBPyConnection, file_id: str, frames: dict[str, pl.DataFrame], version: str
) -> None:
    """Replace one file's analysis in one transaction: never half-written, never duplicated."""
    with transaction(con):
        for table, frame in frames.items():
            con.execute(f"delete from intermediate.{table} where file_id = ?", [file_id])
            con.register("incoming", frame.to_arrow())
            con.execute(f"insert into intermediate.{table} by name select * from incoming")
            con.unregister("incoming")
        con.execute("delete from intermediate.analysed_files where file_id = ?", [file_id])
        con.execute(
            "insert into intermediate.analysed_files values (?, ?, ?)",
            [file_id, version, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
        )


def match_all(con: duckdb.DuckDBPyConnection) -> None:
    """Duplicate groups and stories over every current headline, in SQL (assets/matching.py):
    rewrites intermediate.headline_pairs and intermediate.headline_matches."""
    con.execute(
        """
        create or replace temp table current_features as
        select h.* from intermediate.headline_features h
        join raw.files f on f.file_id = h.file_id and f.status = 'loaded' and f.superseded_at is null
        """
    )
    matching.match_pairs(con, "current_features", "intermediate.headline_pairs")
    matching.group_headlines(con, "current_features", "intermediate.headline_pairs", "current_groups")
    con.execute(
        """
        create or replace table intermediate.headline_matches as
        select h.headline_id, h.file_id, h.line_no, h.normalized_text, g.duplicate_group_id, g.story_id
        from current_features h join current_groups g using (headline_id)
        order by h.file_id, h.line_no
        """
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
            deps=[["intermediate", "int_line_roles"], ["intermediate", "int_paragraphs"]],
            metadata=python_table_metadata(DDL, f"intermediate.{name}", source="analysis"),
        )
        for name, description in KEYS.items()
    ],
    pool=WRITER_POOL,
)
def text_analysis(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Analyse new files (language, topics), then match every headline (duplicates, stories)."""
    version = analysis_version()
    with duckdb.get_connection() as con:
        con.execute(DDL)
        todo = _files_to_analyse(con, version)
        context.log.info(f"analysing {len(todo)} new or re-ruled files (version {version})")
        progress, last_log, started = Progress("files", len(todo)), time.monotonic(), time.perf_counter()
        for file_id in todo:
            store_file(con, file_id, analyse_file(con, file_id), version)
            progress.advance()
            # a line every 50 files or 10 s, whichever comes first: never silent for long
            if progress.done % 50 == 0 or progress.done == len(todo) or time.monotonic() - last_log > 10:
                context.log.info(f"language and topics [{progress.line()}]")
                last_log = time.monotonic()
        seconds_language_topics = time.perf_counter() - started
        context.log.info("matching every headline: duplicates and stories")
        started = time.perf_counter()
        with transaction(con):
            match_all(con)
        seconds_matching = time.perf_counter() - started
        relations = dict(
            con.execute("select relation, count(*) from intermediate.headline_pairs group by all").fetchall()
        )
        context.log.info(f"matched every headline: {relations} linked pairs")
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
