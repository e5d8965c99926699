"""Duplicate headlines and stories, matched inside DuckDB.

The rules are those of `assets/dedup.py` (which keeps them as a plain-Python reference that the tests
hold this module to). Per-headline features (normalised text, stemmed content words, numbers,
direction) are computed once per file in Python and stored in `intermediate.headline_features`;
everything across headlines runs here as SQL, on every core and out of Python memory:

1. Candidates: pairs of different headlines within the date window that share a content word used
   by at most `max_token_df` headlines within the window around their day (blocking by day and rare
   token: each headline has a bounded number of candidates, so the work grows linearly), plus a chain
   through each set of identical normalised texts (each to the previous one by day).
2. Scores: the same rule cascade as `dedup.score_pair`, as vectorised list operations; character
   trigrams and IDF weights are computed only for the few pairs that reach those rules.
3. Groups: connected components of the kept pairs (scipy's sparse-graph routine over integer ids),
   named by their smallest headline id like `dedup.group`.

Steps 1 and 2 only compare headlines within the date window, so they also run per block of days
(`Block`), given the whole set's word counts: on Spark one task per block, then step 3 over the
pairs of all blocks (`group_pairs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from assets import dedup

FEATURES_DDL = """
create table if not exists intermediate.headline_features (
    headline_id varchar, file_id varchar, line_no integer, day integer, normalized_text varchar,
    tokens varchar[], token_set varchar[], numbers varchar[], direction varchar);
"""

FEATURES_SCHEMA = {
    "headline_id": pl.String,
    "file_id": pl.String,
    "line_no": pl.Int32,
    "day": pl.Int32,
    "normalized_text": pl.String,
    "tokens": pl.List(pl.String),
    "token_set": pl.List(pl.String),
    "numbers": pl.List(pl.String),
    "direction": pl.String,
}


def feature_rows(
    keys: Sequence[str], texts: Sequence[str], languages: Sequence[str], days: Sequence[int]
) -> dict[str, list]:
    """Columns of `headline_features` (without file_id/line_no) for some headlines."""
    feats = [
        dedup.features(k, t, lang, d) for k, t, lang, d in zip(keys, texts, languages, days, strict=True)
    ]
    return {
        "headline_id": list(keys),
        "day": list(days),
        "normalized_text": [f.normalized for f in feats],
        "tokens": [sorted(f.tokens) for f in feats],  # sorted: "same words in any order" is list equality
        "token_set": [sorted(f.token_set) for f in feats],
        "numbers": [sorted(f.numbers) for f in feats],
        "direction": [f.direction for f in feats],
    }


def _shared_rare_word_sql(t: dict[str, float]) -> str:
    """m_word_pairs: pairs of different texts within the window that share a rare word (m_rare) and
    that some rule could link. A pair sharing one word in all has word Jaccard 1 / |union|: it can be
    a duplicate only when |union| <= 1 / duplicate_min_jaccard_for_chars (both headlines that short),
    and never a story (story_min_shared >= 2). All other pairs must share a rare word *and* another
    word, so they are joined on (rare word, other word) keys: far fewer pairs than on the rare word
    alone (134 M candidates at 1 GB, nearly all sharing one made-up place name). The score step
    still checks every rule, so this only skips pairs no rule can link; the plain-Python rules in
    dedup.py keep the wider candidate set, and the tests hold both to the same pairs."""
    window = int(t["date_window_days"])
    min_jaccard = t["duplicate_min_jaccard_for_chars"]
    one_word_pairs = f"""
            select a.i as a, b.i as b from m_rare a join m_rare b
              on a.token = b.token and a.i < b.i and a.t <> b.t and abs(a.day - b.day) <= {window}"""
    if t["story_min_shared"] < 2 or min_jaccard <= 0:
        return f"create or replace temp table m_word_pairs as {one_word_pairs};"
    short = int(1 / min_jaccard)  # most words a headline may have and still link through one shared word
    return f"""
    create or replace temp table m_keys as  -- (rare word, another word of the same headline)
        select i, day, t, hash(token, other) as k
        from (select i, day, t, token, unnest(token_set) as other from m_rare) where other <> token;
    create or replace temp table m_word_pairs as
        select a.i as a, b.i as b from m_keys a join m_keys b
          on a.k = b.k and a.i < b.i and a.t <> b.t and abs(a.day - b.day) <= {window}
        union all
        select a.i, b.i from m_rare a join m_rare b
          on a.token = b.token and a.i < b.i and a.t <> b.t and abs(a.day - b.day) <= {window}
         and len(a.token_set) <= {short} and len(b.token_set) <= {short}
         and len(a.token_set) + len(b.token_set) - 1 <= {short};
    drop table m_keys;
    """


@dataclass(frozen=True)
class Block:
    """A block of days of a larger set of headlines, matched on its own (on Spark, one task each):
    `stats` names a table of the larger set's word counts for the block's words, (token, day, df,
    window_df), `headlines` the larger set's size, and only pairs whose earlier headline's day is in
    [first_day, end_day) are kept. Given every headline up to `date_window_days` past its end, a block
    finds exactly the pairs the whole set has there (assets/text_batches.match_block)."""

    stats: str
    headlines: int
    first_day: int
    end_day: int


def word_counts_sql(features: str, window: int, block: Block | None) -> str:
    """SQL making m_idf (headlines per word, IDF) and m_day_df (headlines per word within the window
    around each day): from the headlines of `features`, or the larger set's counts a block is handed."""
    if block is not None:
        return f"""
    create or replace temp table m_idf as
        select token, df, ln(({block.headlines} + 1) / (df + 0.5)) as idf
        from (select token, any_value(df) as df from {block.stats} group by token);
    create or replace temp table m_day_df as select distinct token, day, window_df from {block.stats};"""
    return f"""
    create or replace temp table m_idf as
        select token, count(*) as df, ln(((select count(*) from {features}) + 1) / (count(*) + 0.5)) as idf
        from (select unnest(token_set) as token from {features}) group by token;
    create or replace temp table m_day_df as  -- headlines per word per day, then within the window
        with per_day as (
            select token, day, count(*) as n from (select day, unnest(token_set) as token from {features})
            group by token, day
        )
        select a.token, a.day, sum(b.n) as window_df
        from per_day a join per_day b on a.token = b.token and abs(a.day - b.day) <= {window}
        group by a.token, a.day;"""


def _candidates_sql(features: str, block: Block | None = None) -> str:
    """Scratch tables keyed by integer ids (a 32-character headline id per token posting and per pair
    does not fit in memory at a gigabyte of news)."""
    t = dedup.thresholds()
    window = int(t["date_window_days"])
    owned = (
        ""
        if block is None
        else f"""join m_ids x on x.i = c.a join m_ids y on y.i = c.b
        where least(x.day, y.day) >= {block.first_day} and least(x.day, y.day) < {block.end_day}"""
    )
    return f"""
    set preserve_insertion_order = false;
    create or replace temp table m_ids as  -- t numbers the distinct normalised texts
        select (row_number() over (order by headline_id) - 1)::integer as i, headline_id, day,
               dense_rank() over (order by normalized_text)::integer as t
        from {features};
    {word_counts_sql(features, window, block)}
    create or replace temp table m_rare as
        select m.i, m.day, m.t, p.token, p.token_set
        from (select headline_id, day, token_set, unnest(token_set) as token from {features}) p
        join m_day_df d on d.token = p.token and d.day = p.day
         and d.window_df between 2 and {int(t["max_token_df"])}
        join m_ids m on m.headline_id = p.headline_id;
    drop table m_day_df;
    {_shared_rare_word_sql(t)}
    drop table m_rare;
    create or replace temp table m_candidates as
        select c.a, c.b from (select distinct a, b from (
            select a, b from m_word_pairs
            union all
            -- identical texts as a chain: each to the previous one in (day, id) order when within the
            -- window (k - 1 pairs for k repeats, where all pairs would be k², and the same groups)
            select least(i, previous), greatest(i, previous) from (
                select i, day, lag(i) over w as previous, lag(day) over w as previous_day from m_ids
                window w as (partition by t order by day, i)
            ) where day - previous_day <= {window}
        )) c {owned};
    drop table m_word_pairs;
    """


def _score_sql(features: str) -> str:
    t = dedup.thresholds()
    same_sides = "not p.opposite and not p.numbers_differ"
    return f"""
    create or replace temp table m_feat as
        select m.i, f.normalized_text, f.tokens, f.token_set, f.numbers, f.direction
        from {features} f join m_ids m using (headline_id);
    create or replace temp table m_pairs as
        select a, b, same_text, opposite, numbers_differ, numbers_disjoint, same_words, shared,
               case when n_union > 0 then len(shared) / n_union else 0.0 end as jaccard
        from (
            select c.a, c.b,
                   fa.normalized_text = fb.normalized_text as same_text,
                   coalesce(fa.direction <> fb.direction, false) as opposite,
                   fa.numbers <> fb.numbers as numbers_differ,
                   len(fa.numbers) > 0 and len(fb.numbers) > 0
                       and len(list_intersect(fa.numbers, fb.numbers)) = 0 as numbers_disjoint,
                   len(fa.tokens) > 0 and fa.tokens = fb.tokens as same_words,
                   list_intersect(fa.token_set, fb.token_set) as shared,
                   len(fa.token_set) + len(fb.token_set) - len(list_intersect(fa.token_set, fb.token_set)) as n_union
            from m_candidates c join m_feat fa on fa.i = c.a join m_feat fb on fb.i = c.b
        )
        -- only pairs some rule can link: a duplicate needs Jaccard >= the character rule's floor
        -- (or the same text), a story needs enough shared words
        where same_text or jaccard >= {t["duplicate_min_jaccard_for_chars"]}
           or len(shared) >= {int(t["story_min_shared"])};
    drop table m_candidates;

    create or replace temp table m_duplicates as
        with chars as (
            select p.a, p.b, ' ' || fa.normalized_text || ' ' as pa, ' ' || fb.normalized_text || ' ' as pb
            from m_pairs p join m_feat fa on fa.i = p.a join m_feat fb on fb.i = p.b
            where {same_sides} and not p.same_text and not p.same_words
              and p.jaccard < {t["duplicate_jaccard"]} and p.jaccard >= {t["duplicate_min_jaccard_for_chars"]}
        ), trigrams as (
            select a, b,
                   list_distinct(list_transform(range(length(pa) - 2), lambda i: substring(pa, i + 1, 3))) as tri_a,
                   list_distinct(list_transform(range(length(pb) - 2), lambda i: substring(pb, i + 1, 3))) as tri_b
            from chars
        ), char_scores as (
            select a, b, len(list_intersect(tri_a, tri_b)) / len(list_distinct(list_concat(tri_a, tri_b))) as chars
            from trigrams
        )
        select a, b, 1.0 as score, 'exact_normalized' as rule from m_pairs p where same_text
        union all
        select a, b, 1.0, 'same_words_any_order' from m_pairs p where not same_text and {same_sides} and same_words
        union all
        select a, b, jaccard, 'word_jaccard' from m_pairs p
        where not same_text and {same_sides} and not same_words and jaccard >= {t["duplicate_jaccard"]}
        union all
        select a, b, chars, 'near_identical_characters' from char_scores
        where chars >= {t["duplicate_char_similarity"]};

    create or replace temp table m_stories as
        with eligible as (
            select p.a, p.b, p.shared from m_pairs p
            anti join m_duplicates d on d.a = p.a and d.b = p.b
            where not p.opposite and not p.numbers_disjoint and len(p.shared) >= {int(t["story_min_shared"])}
        ), shared_weight as (
            select a, b, sum(d.idf) as weight
            from (select a, b, unnest(shared) as token from eligible) s join m_idf d using (token)
            group by a, b
        ), headline_weight as (
            select i, sum(d.idf) as weight
            from (select i, unnest(token_set) as token from m_feat) t join m_idf d using (token) group by i
        )
        select s.a, s.b, s.weight / (wa.weight + wb.weight - s.weight) as score, 'shared_terms' as rule
        from shared_weight s join headline_weight wa on wa.i = s.a join headline_weight wb on wb.i = s.b
        where s.weight / (wa.weight + wb.weight - s.weight) >= {t["story_weighted_jaccard"]};
    drop table m_pairs;
    drop table m_feat;
    """


def match(
    con: duckdb.DuckDBPyConnection, features: str, pairs: str, groups: str | None, block: Block | None = None
) -> None:
    """Match the headlines of table `features`: every linked pair goes to table `pairs`
    (headline_id_a < headline_id_b, relation, score, rule; each pair once), each headline's
    duplicate_group_id (null when alone) and story_id (itself when alone) to table `groups` (unless
    None); a group is named by its smallest headline id. With a `block`, only that block's pairs."""
    con.execute(_candidates_sql(features, block))
    con.execute(_score_sql(features))
    con.execute(
        f"""
        create or replace table {pairs} as
        with linked as (
            select a, b, 'duplicate' as relation, score, rule from m_duplicates
            union all
            select a, b, 'story', score, rule from m_stories
        )
        select ia.headline_id as headline_id_a, ib.headline_id as headline_id_b, l.relation,
               round(l.score, 4)::double as score, l.rule
        from linked l join m_ids ia on ia.i = l.a join m_ids ib on ib.i = l.b
        """
    )
    if groups is not None:
        _write_groups(con, groups)


def group_pairs(con: duckdb.DuckDBPyConnection, pairs: str, into: str) -> None:
    """Duplicate groups and stories from linked pairs alone (rows of headline_pairs, from any number of
    blocks): `match`'s groups for every headline some pair links. Any other headline is alone: no
    duplicate group, its own story."""
    con.execute(
        f"""
        create or replace temp table m_ids as
            select (row_number() over (order by headline_id) - 1)::integer as i, headline_id
            from (select headline_id_a as headline_id from {pairs} union select headline_id_b from {pairs});
        create or replace temp table m_linked as
            select ia.i as a, ib.i as b, p.relation from {pairs} p
            join m_ids ia on ia.headline_id = p.headline_id_a join m_ids ib on ib.headline_id = p.headline_id_b;
        create or replace temp table m_duplicates as select a, b from m_linked where relation = 'duplicate';
        create or replace temp table m_stories as select a, b from m_linked where relation = 'story';
        """
    )
    _write_groups(con, into)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _write_groups(con: duckdb.DuckDBPyConnection, into: str) -> None:
    """Connected components of the linked pairs, still on the integer ids of `match`."""
    edges = con.execute(
        "select a, b, true as dup from m_duplicates union all select a, b, false from m_stories"
    ).fetchnumpy()
    n = con.execute("select count(*) from m_ids").fetchall()[0][0]
    a, b, dup = (np.asarray(edges[k]) for k in ("a", "b", "dup"))
    labels = pl.DataFrame(
        {
            "i": np.arange(n, dtype=np.int32),
            "story": _components(n, a, b),
            "dup": _components(n, a[dup], b[dup]),
        }
    )
    con.register("m_labels", labels.to_arrow())
    con.execute(
        f"""
        create or replace table {into} as
        with named as (
            select m.headline_id, l.story, l.dup,
                   min(m.headline_id) over (partition by l.story) as story_id,
                   min(m.headline_id) over (partition by l.dup) as dup_id,
                   count(*) over (partition by l.dup) as dup_size
            from m_ids m join m_labels l using (i)
        )
        select headline_id, case when dup_size > 1 then dup_id end as duplicate_group_id, story_id from named
        """
    )
    con.unregister("m_labels")


def match_items(items: Sequence[dedup.Item]) -> tuple[list[dedup.Pair], dict[str, tuple[str | None, str]]]:
    """Pairs and groups for (key, text, language, day) items, through the same SQL as the pipeline
    (an in-memory DuckDB): what the evaluation and the tests call."""
    con = duckdb.connect()
    con.execute("create schema intermediate")
    con.execute(FEATURES_DDL)
    columns = feature_rows(
        [i[0] for i in items], [i[1] for i in items], [i[2] for i in items], [i[3] for i in items]
    )
    frame = pl.DataFrame(
        {"file_id": "-", "line_no": 0, **columns}, schema=FEATURES_SCHEMA
    ) if items else pl.DataFrame(schema=FEATURES_SCHEMA)  # fmt: skip
    con.register("incoming", frame.to_arrow())
    con.execute("insert into intermediate.headline_features by name select * from incoming")
    match(con, "intermediate.headline_features", "pairs", "groups")
    pairs = [dedup.Pair(*row) for row in con.execute("select * from pairs order by all").fetchall()]
    groups = {key: (dup, story) for key, dup, story in con.execute("select * from groups").fetchall()}
    con.close()
    return pairs, groups
