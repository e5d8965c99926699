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

The same steps also add a few new headlines to an existing match (`match_new`, `merge_new`): only
the pairs with a new headline are found and scored, from the word counts per day kept for the whole
set (`TOKEN_DAYS_DDL`), and only the groups those pairs join change. Pairs between older headlines
are kept as they were (see assets/analysis.py for when a full match is run instead).
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


def word_counts_sql(features: str, window: int, block: Block | None, token_days: str | None = None) -> str:
    """SQL making m_idf (headlines per word, IDF) and m_day_df (headlines per word within the window
    around each day): from `token_days` (headlines per word and day of `features`, token_days_sql)
    when given, else counted here from the headlines of `features`; or the larger set's counts a
    block is handed."""
    if block is not None:
        return f"""
    create or replace temp table m_idf as
        select token, df, ln(({block.headlines} + 1) / (df + 0.5)) as idf
        from (select token, any_value(df) as df from {block.stats} group by token);
    create or replace temp table m_day_df as select distinct token, day, window_df from {block.stats};"""
    counted = (
        "" if token_days else f"create or replace temp table m_token_days as {token_days_sql(features)};"
    )
    per_day = token_days or "m_token_days"
    # a headline holds each of its words once, so a word's headlines per day sum to its df
    return f"""
    {counted}
    create or replace temp table m_idf as
        select token, sum(headlines)::bigint as df,
               ln(((select count(*) from {features}) + 1) / (sum(headlines)::bigint + 0.5)) as idf
        from {per_day} group by token;
    create or replace temp table m_day_df as  -- headlines per word per day, then within the window
        {window_df_sql(per_day, per_day, window)};
    {"" if token_days else "drop table m_token_days;"}"""


TOKEN_DAYS_DDL = """
create table if not exists intermediate.matching_token_days (token varchar, day integer, headlines bigint);
"""


def token_days_sql(features: str) -> str:
    """Headlines per (word, day): what the rare-word blocking and the IDF are computed from, kept
    between runs so that adding headlines does not rescan every older one."""
    return f"""
    select token, day, count(*) as headlines
    from (select day, unnest(token_set) as token from {features}) group by token, day"""


def window_df_sql(days: str, counts: str, window: int) -> str:
    """For each distinct (token, day) of `days`: the headlines with that word within the date window
    around the day, summed from `counts` (token, day, headlines). The rare-word test reads it."""
    return f"""
        select d.token, d.day, sum(c.headlines) as window_df
        from {days} d join {counts} c on c.token = d.token and abs(c.day - d.day) <= {window}
        group by d.token, d.day"""


def _candidates_sql(features: str, block: Block | None = None, token_days: str | None = None) -> str:
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
    {word_counts_sql(features, window, block, token_days)}
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


def _kind(table: str) -> str:
    """A table named without its schema is scratch: temporary, never left in the warehouse file."""
    return "table" if "." in table else "temp table"


def match(
    con: duckdb.DuckDBPyConnection,
    features: str,
    pairs: str,
    groups: str | None,
    block: Block | None = None,
    token_days: str | None = None,
) -> None:
    """Match the headlines of table `features`: every linked pair goes to table `pairs`
    (headline_id_a < headline_id_b, relation, score, rule; each pair once), each headline's
    duplicate_group_id (null when alone) and story_id (itself when alone) to table `groups` (unless
    None); a group is named by its smallest headline id. With a `block`, only that block's pairs.
    `token_days`: a table of token_days_sql(features) already made (the full match keeps it)."""
    con.execute(_candidates_sql(features, block, token_days))
    con.execute(_score_sql(features))
    con.execute(
        f"""
        create or replace {_kind(pairs)} {pairs} as
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
        create or replace {_kind(into)} {into} as
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


def add_token_days(con: duckdb.DuckDBPyConnection, new: str, token_days: str) -> None:
    """Count the headlines of table `new` into `token_days` (updates then inserts: exact sums)."""
    con.execute(
        f"""
        create or replace temp table n_counts as {token_days_sql(new)};
        update {token_days} t set headlines = t.headlines + n.headlines
        from n_counts n where t.token = n.token and t.day = n.day;
        insert into {token_days} select * from n_counts n
        where not exists (select 1 from {token_days} t where t.token = n.token and t.day = n.day);
        drop table n_counts;
        """
    )


def match_new(
    con: duckdb.DuckDBPyConnection, features: str, new: str, token_days: str, headlines: int, pairs: str
) -> None:
    """Every linked pair with a headline of `new` (rows of `features` too) into table `pairs`: the
    pairs, rules and scores `match` finds for them over all of `features`, whose word counts per day
    (new headlines included) are `token_days` and whose size is `headlines`.

    A new headline's partners are the headlines within the date window that share one of its words
    while the word is rare at both days, or share its normalised text (the chain of identical texts
    needs all of them). `match` runs on new headlines plus partners as a `Block` given the whole
    set's counts for their words, and keeps the pairs with a new headline: what every block does."""
    t = dedup.thresholds()
    window, cap = int(t["date_window_days"]), int(t["max_token_df"])
    span = con.execute(f"select min(day) - {window}, max(day) + {window} from {new}").fetchall()[0]
    if span[0] is None:
        con.execute(f"create or replace {_kind(pairs)} {pairs} as select * from ({_EMPTY_PAIRS})")
        return
    low, high = span
    con.execute(
        f"""
        create or replace temp table n_window as  -- the new headlines' words: headlines within the window of each day
            with days as (select * from {token_days} where token in (select unnest(token_set) from {new}))
            {window_df_sql("days", token_days, window)};
        create or replace temp table n_keys as  -- (word, day) where a headline shares a new one's rare word
            with rare_new as (
                select distinct p.token, p.day from (select day, unnest(token_set) as token from {new}) p
                join n_window w on w.token = p.token and w.day = p.day and w.window_df between 2 and {cap}
            )
            select distinct w.token, w.day from rare_new r join n_window w
              on w.token = r.token and abs(w.day - r.day) <= {window} and w.window_df between 2 and {cap};
        create or replace temp table n_subset as
            with near as (select * from {features} where day between {low} and {high})
            select * from near where headline_id in (
                select headline_id from (select headline_id, day, unnest(token_set) as token from near) p
                semi join n_keys k on k.token = p.token and k.day = p.day
                union select headline_id from near where normalized_text in (select normalized_text from {new})
                union select headline_id from {new}
            );
        create or replace temp table n_stats as  -- the whole set's counts for the subset's words
            with posts as (select distinct day, unnest(token_set) as token from n_subset),
            df as (
                select token, sum(headlines) as df from {token_days}
                where token in (select token from posts) group by token
            ),
            windows as ({window_df_sql("posts", token_days, window)})
            select w.token, w.day, df.df, w.window_df from windows w join df using (token);
        drop table n_window;
        drop table n_keys;
        """
    )
    match(con, "n_subset", "n_pairs", None, Block("n_stats", headlines, low, high + 1))
    con.execute(
        f"""
        create or replace {_kind(pairs)} {pairs} as
        select * from n_pairs
        where headline_id_a in (select headline_id from {new}) or headline_id_b in (select headline_id from {new});
        drop table n_pairs;
        drop table n_subset;
        drop table n_stats;
        """
    )


def drop_rechained(
    con: duckdb.DuckDBPyConnection, features: str, new: str, pairs: str, dropped: str = "rechained"
) -> int:
    """Identical texts are linked as a chain, each to the previous one in (day, id) order: a new
    headline between two older ones of its text takes the place of their pair (the groups are the
    same). Deletes those pairs from table `pairs`, keeping them in temp table `dropped`; returns how
    many."""
    con.execute(
        f"""
        create or replace temp table {dropped} as
        with texts as (select distinct normalized_text from {new}),
        ends as (
            select headline_id, day, normalized_text from {features}
            where normalized_text in (select normalized_text from texts)
        ),
        chained as (  -- each older pair of identical texts, its ends in chain order
            select p.headline_id_a, p.headline_id_b, x.normalized_text,
                   case when (x.day, x.headline_id) < (y.day, y.headline_id) then x else y end as first,
                   case when (x.day, x.headline_id) < (y.day, y.headline_id) then y else x end as last
            from {pairs} p join ends x on x.headline_id = p.headline_id_a join ends y on y.headline_id = p.headline_id_b
            where p.rule = 'exact_normalized'
        ),
        replaced as (
            select distinct c.headline_id_a, c.headline_id_b from chained c join {new} n
              on n.normalized_text = c.normalized_text
             and (n.day, n.headline_id) > (c.first.day, c.first.headline_id)
             and (n.day, n.headline_id) < (c.last.day, c.last.headline_id)
        )
        select p.* from {pairs} p semi join replaced r
          on p.headline_id_a = r.headline_id_a and p.headline_id_b = r.headline_id_b
        where p.rule = 'exact_normalized'
        """
    )
    return con.execute(
        f"""
        delete from {pairs} p using {dropped} r
        where p.headline_id_a = r.headline_id_a and p.headline_id_b = r.headline_id_b
          and p.rule = 'exact_normalized'
        """
    ).fetchall()[0][0]


_EMPTY_PAIRS = (
    "select ''::varchar as headline_id_a, ''::varchar as headline_id_b, ''::varchar as relation, "
    "0.0::double as score, ''::varchar as rule where false"
)


def merge_new(
    con: duckdb.DuckDBPyConnection, new: str, new_pairs: str, matches: str, regrouped: str = "regrouped"
) -> int:
    """Add the headlines of `new` (rows of headline_features) to table `matches` (rows of
    headline_matches for the older headlines), joined by `new_pairs` (from `match_new`): a new
    headline forms groups with the groups its pairs reach, named by their smallest headline id as
    always. Only the older headlines of those groups are updated, their ids kept in temp table
    `regrouped`; returns how many changed."""
    ends = con.sql(
        f"""
        with ends as (
            select p.relation, p.headline_id_a as a, p.headline_id_b as b,
                   ga.story_id as story_a, coalesce(ga.duplicate_group_id, ga.headline_id) as dup_a,
                   gb.story_id as story_b, coalesce(gb.duplicate_group_id, gb.headline_id) as dup_b
            from {new_pairs} p
            left join {matches} ga on ga.headline_id = p.headline_id_a
            left join {matches} gb on gb.headline_id = p.headline_id_b
        )  -- each end as a group key: a new headline is its own, an older one stands for its group
        select relation, coalesce(story_a, a) as story_a, coalesce(story_b, b) as story_b,
               coalesce(dup_a, a) as dup_a, coalesce(dup_b, b) as dup_b
        from ends
        """
    ).to_arrow_table()
    ends = pl.from_arrow(ends)
    new_ids = pl.Series(
        "key", [r[0] for r in con.execute(f"select headline_id from {new}").fetchall()], pl.String
    )
    if new_ids.is_empty():
        con.execute(f"create or replace temp table {regrouped} (headline_id varchar)")
        return 0
    dups = ends.filter(pl.col("relation") == "duplicate")
    story = _named_components(new_ids, ends["story_a"], ends["story_b"])
    dup = _named_components(new_ids, dups["dup_a"], dups["dup_b"])
    con.register("m_story", story.to_arrow())
    con.register("m_dup", dup.to_arrow())
    con.execute(
        f"""
        create or replace temp table {regrouped} as
        select m.headline_id from {matches} m
        left join m_story s on s.key = m.story_id
        left join m_dup d on d.key = coalesce(m.duplicate_group_id, m.headline_id)
        where (s.key is not null and s.name <> m.story_id)
           or (d.key is not null and d.size > 1 and d.name is distinct from m.duplicate_group_id)
        """
    )
    changed = con.execute(f"select count(*) from {regrouped}").fetchall()[0][0]
    con.execute(
        f"""
        update {matches} m set story_id = s.name from m_story s where s.key = m.story_id and s.name <> s.key;
        update {matches} m set duplicate_group_id = d.name from m_dup d
        where d.key = coalesce(m.duplicate_group_id, m.headline_id) and d.size > 1
          and d.name is distinct from m.duplicate_group_id;
        insert into {matches} by name
        select n.headline_id, n.file_id, n.line_no, n.normalized_text, s.name as story_id,
               case when d.size > 1 then d.name end as duplicate_group_id
        from {new} n join m_story s on s.key = n.headline_id join m_dup d on d.key = n.headline_id;
        """
    )
    con.unregister("m_story")
    con.unregister("m_dup")
    return changed


def _named_components(nodes: pl.Series, a: pl.Series, b: pl.Series) -> pl.DataFrame:
    """Connected components over string keys (every one of `nodes` plus the edges' ends): each key
    with its component's name (smallest key) and size in keys."""
    keys = pl.concat([nodes, a.rename("key"), b.rename("key")]).unique().sort()
    index = {key: i for i, key in enumerate(keys.to_list())}
    ia = np.fromiter((index[k] for k in a.to_list()), dtype=np.int64, count=len(a))
    ib = np.fromiter((index[k] for k in b.to_list()), dtype=np.int64, count=len(b))
    frame = pl.DataFrame({"key": keys, "component": _components(len(keys), ia, ib)})
    return frame.with_columns(
        name=pl.col("key").min().over("component"), size=pl.len().over("component")
    ).drop("component")


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
