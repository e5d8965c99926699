"""Matching in DuckDB SQL (assets/matching.py) against the plain-Python rules (assets/dedup.py).

The SQL is what the pipeline runs; dedup.py states the rules one pair at a time. On our labelled
sets and on a generated corpus (several days, five languages, exact and reworded repeats) both must
link exactly the same pairs, by the same rule, with the same score, and form the same groups."""

import contextlib
import subprocess
import sys
import time

import duckdb
import polars as pl
import pyarrow as pa
import pytest

from assets import dedup, evaluation, file_analysis, matching, text_batches
from bench import corpus
from orchestration.settings import PROJECT_ROOT


def _compare(items: list[dedup.Item]) -> int:
    expected = dedup.match_headlines(items)
    groups = dedup.group(expected, [key for key, *_ in items])
    got, got_groups = matching.match_items(items)
    as_scores = lambda pairs: {(p.a, p.b, p.relation, p.rule): p.score for p in pairs}  # noqa: E731
    want, have = as_scores(expected), as_scores(got)
    assert want.keys() == have.keys()
    assert all(abs(want[k] - have[k]) < 1e-9 for k in want)
    assert got_groups == groups
    return len(got)


def test_sql_matches_the_rules_on_our_labelled_sets() -> None:
    rows = evaluation.topic_rows() + evaluation.unseen_rows()
    items = [(str(i), r["text"], "en", i % 4) for i, r in enumerate(rows)]
    assert _compare(items) > 20


@pytest.fixture(scope="module")
def corpus_items(tmp_path_factory: pytest.TempPathFactory) -> list[dedup.Item]:
    out = tmp_path_factory.mktemp("corpus")
    corpus.generate(out, corpus.parse_size("1MB"), seed=11)
    items = []
    for path in sorted(out.rglob("*.txt")):
        day = file_analysis.landing_day(path.relative_to(out).as_posix(), 0)  # date=2026-10-NN folders
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # the legacy encodings are the loader's business, not matching's
            continue
        language = path.stem.split("_")[-1] if "_" in path.stem else "en"
        for n, line in enumerate(text.splitlines()):
            if 10 < len(line.strip()) < 160:
                items.append((f"{path.name}:{n}", line.strip(), language, day))
    return items


def test_sql_matches_the_rules_on_a_generated_corpus(corpus_items: list[dedup.Item]) -> None:
    assert len(corpus_items) > 2000
    assert len({day for *_, day in corpus_items}) > 1
    linked = _compare(corpus_items)
    assert linked > 1000


def test_pairs_outside_the_date_window_are_not_linked(corpus_items: list[dedup.Item]) -> None:
    window = dedup.thresholds()["date_window_days"]
    days = {key: day for key, _, _, day in corpus_items}
    pairs, _ = matching.match_items(corpus_items)
    assert pairs and all(abs(days[p.a] - days[p.b]) <= window for p in pairs)


def test_identical_headlines_are_linked_as_a_chain_not_every_pair() -> None:
    """k repeats give k - 1 pairs (all pairs would be k², which sank the 1 GB bench), in the same
    groups as all pairs would; a gap longer than the date window still splits them."""
    text = "Central bank holds interest rates steady"
    window = int(dedup.thresholds()["date_window_days"])
    items = [(f"k{i:03d}", text, "en", i // 40) for i in range(300)]  # 300 repeats over 8 days
    items += [(f"z{i}", text, "en", 8 + window + 1 + i) for i in range(3)]  # after a gap > window
    pairs, groups = matching.match_items(items)
    assert len(pairs) == 300 - 1 + 3 - 1
    assert {p.rule for p in pairs} == {"exact_normalized"}
    assert {groups[k] for k, *_ in items[:300]} == {("k000", "k000")}
    assert {groups[k] for k, *_ in items[300:]} == {("z0", "z0")}
    assert _compare(items) == len(pairs)


def test_short_headlines_still_link_through_their_one_shared_word() -> None:
    """SQL joins most candidates on two shared words; headlines of one or two words can link through
    one, and must not be lost by that shortcut."""
    items = [
        ("a", "Floods", "en", 0),
        ("b", "The floods", "en", 0),
        ("c", "Floods!", "en", 1),
        ("d", "Floods hit Kalomer", "en", 1),
        ("e", "Kalomer floods: thousands flee", "en", 2),
        ("f", "Thousands flee Kalomer floods", "en", 2),
    ]
    pairs, _ = matching.match_items(items)
    assert ("a", "b", "duplicate", "same_words_any_order") in {(p.a, p.b, p.relation, p.rule) for p in pairs}
    assert ("e", "f", "duplicate", "same_words_any_order") in {(p.a, p.b, p.relation, p.rule) for p in pairs}
    assert _compare(items) == len(pairs)


@pytest.mark.parametrize(
    ("path", "day"),
    [
        ("date=2026-10-03/desk_000001_en.txt", "2026-10-03"),
        ("2026/10/03/wire.txt", "2026-10-03"),
        ("archive/2025-01-01/20261003_wire.txt", "2026-10-03"),  # the last date in the path
        ("desk/wire-2026-02-30.txt", None),  # not a date: the load day
        ("desk_000123_en.txt", None),
        ("sample_headlines.txt", None),
    ],
)
def test_a_files_day_comes_from_its_landing_path(path: str, day: str | None) -> None:
    import datetime as dt

    loaded = 20_000
    expected = (dt.date.fromisoformat(day) - dt.date(1970, 1, 1)).days if day else loaded
    assert file_analysis.landing_day(path, loaded) == expected


def test_no_headlines_no_pairs() -> None:
    assert matching.match_items([]) == ([], {})


def test_every_headline_has_a_story() -> None:
    items = [
        ("a", "Floods hit the north", "en", 0),
        ("b", "Floods hit the north", "en", 0),
        ("c", "x y", "en", 0),
    ]
    _, groups = matching.match_items(items)
    assert groups == {"a": ("a", "a"), "b": ("a", "a"), "c": (None, "c")}


def test_worker_processes_analyse_files_exactly_as_in_process(built, monkeypatch) -> None:
    """The process pool (used for large runs) returns the same frames, in the same order, as
    analysing each file in the run's own process."""
    import duckdb

    from assets import file_analysis

    with duckdb.connect(str(built.settings.warehouse), read_only=True) as con:
        file_ids = [r[0] for r in con.execute("select file_id from raw.files order by file_id").fetchall()]
        alone = list(file_analysis.analyse_files(con, file_ids, workers=1))
        monkeypatch.setattr(file_analysis, "POOL_MIN_LINES", 0)
        con.execute("set memory_limit = '2GB'")
        limit = lambda: con.execute("select current_setting('memory_limit')").fetchall()[0][0]  # noqa: E731
        before, pooled, during = limit(), [], set()
        for item in file_analysis.analyse_files(con, file_ids, workers=2, memory_limit="2GB"):
            pooled.append(item)
            during.add(limit())
        # while the workers hold the models, this process' DuckDB has half its memory; then all again
        assert during == {"921.5 MiB"} and before == limit() == "1.8 GiB"
    assert [f for f, _ in pooled] == file_ids == [f for f, _ in alone]
    assert sum(frames["headline_features"].height for _, frames in pooled) == 63
    for (_, a), (_, b) in zip(alone, pooled, strict=True):
        assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)


def _spawned_children(pid: int | None = None) -> list:
    """The worker processes (multiprocessing's spawn, not its resource tracker) of a process,
    this one by default."""
    import psutil

    return [c for c in psutil.Process(pid).children() if any("spawn_main" in part for part in c.cmdline())]


def test_the_warm_worker_analyses_files_exactly_as_in_process(built) -> None:
    """A run that loads a few files starts a worker that loads the models while dbt runs
    (`file_analysis.warm_up`, from the loader); the analysis hands that worker its files and gets the
    same frames as in its own process."""
    import duckdb
    import psutil

    from assets import file_analysis

    with duckdb.connect(str(built.settings.warehouse), read_only=True) as con:
        file_ids = [r[0] for r in con.execute("select file_id from raw.files order by file_id").fetchall()]
        alone = list(file_analysis.analyse_files(con, file_ids, workers=1))  # stops any warm worker
        before = {c.pid for c in _spawned_children()}
        file_analysis.warm_up()
        file_analysis.warm_up()  # one worker per process
        time.sleep(1)
        (worker,) = {c.pid for c in _spawned_children()} - before
        busy = psutil.Process(worker).cpu_times().user
        warm = list(file_analysis.analyse_files(con, file_ids, workers=2))  # too few lines for a pool
        assert psutil.Process(worker).cpu_times().user > busy  # the worker did the work
    assert [f for f, _ in warm] == file_ids
    for (_, a), (_, b) in zip(alone, warm, strict=True):
        assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)


def test_a_run_that_loads_a_few_files_starts_the_warm_worker(tmp_path) -> None:
    """The loader starts it under the executor a run really has (`execute_in_process` names its
    own), and the analysis uses it."""
    import dagster as dg

    from tests.conftest import copy_sample, make_settings, run_pipeline

    file_analysis.cool_down()
    settings = make_settings(tmp_path)
    copy_sample(settings.raw_dir)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_pipeline(settings, instance)
        said = [e.user_message for e in instance.all_logs(result.run_id) if e.step_key == "text_analysis"]
    assert result.success and file_analysis.warm_worker()
    assert any("in the worker that loaded the models meanwhile" in m for m in said), said


def test_the_warm_worker_does_not_outlive_a_killed_run(tmp_path) -> None:
    import psutil

    run = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from assets import file_analysis; file_analysis.warm_up(); import time; time.sleep(600)",
        ],
        cwd=PROJECT_ROOT,
    )
    workers: list = []
    try:
        deadline = time.time() + 60
        while not (workers := _spawned_children(run.pid)):
            assert time.time() < deadline
            time.sleep(0.2)
        run.kill()  # as the OOM killer would
        run.wait()
        gone, alive = psutil.wait_procs(workers, timeout=60)
        assert not alive and gone
    finally:
        run.kill()
        for worker in workers:  # a failed test leaves nothing behind either
            with contextlib.suppress(psutil.Error):
                worker.kill()


def _name(n: int) -> str:
    return "zq" + "".join(chr(97 + (n // 26**j) % 26) for j in range(3))


def test_a_word_common_overall_but_rare_in_its_window_still_links() -> None:
    """The cap on a word's headlines holds per date window: 'quarry' is in 600 headlines over 200
    days (3 a day, 21 in any window) and still links same-week headlines; 'summit', in 250 headlines
    of one day, is too common there to make candidates."""
    items = [
        (f"q{d}-{k}", f"Quarry collapse traps miners {_name(3 * d + k)}", "en", d)
        for d in range(200)
        for k in range(3)
    ]
    items += [(f"s{k}", f"Summit opens talks {_name(1000 + k)}", "en", 500) for k in range(250)]
    pairs, _ = matching.match_items(items)
    assert {(p.a, p.b) for p in pairs} == {(p.a, p.b) for p in dedup.match_headlines(items)}
    linked = {frozenset((p.a, p.b)) for p in pairs}
    assert frozenset(("q10-0", "q11-0")) in linked
    assert frozenset(("q10-0", "q20-0")) not in linked  # ten days apart: outside the window
    assert not any(p.a.startswith("s") for p in pairs)


@pytest.mark.parametrize("days_per_block", [3, 5, 8])
def test_matching_block_by_block_finds_the_same_pairs_and_groups(
    corpus_items: list[dedup.Item], days_per_block: int
) -> None:
    """What Spark runs one task per block of days (text_batches.match_block, given the whole set's word
    counts), then groups over all blocks' pairs (group_batches), equals matching all at once."""
    window = int(dedup.thresholds()["date_window_days"])
    columns = matching.feature_rows(*(list(column) for column in zip(*corpus_items, strict=True)))
    features = pl.DataFrame({"file_id": "-", "line_no": 0, **columns}, schema=matching.FEATURES_SCHEMA)
    whole = text_batches.match_features(features.to_arrow())
    con = duckdb.connect()
    con.register("features", features.to_arrow())
    con.execute(matching.word_counts_sql("features", window, None))
    blocked = features.with_columns(
        block=pl.col("day").map_elements(
            lambda d: text_batches.blocks_of(d, days_per_block, window), pl.List(pl.Int32)
        )
    ).explode("block")
    assert blocked["block"].n_unique() > 2 and blocked.height > features.height
    pairs = []
    for rows in blocked.partition_by("block"):
        con.register("rows", rows.to_arrow())
        stats = con.execute(
            """
            select distinct r.block, r.day, w.token, i.df, w.window_df
            from (select block, day, unnest(token_set) as token from rows) r
            join m_idf i on i.token = r.token join m_day_df w on w.token = r.token and w.day = r.day
            """
        ).to_arrow_table()
        pairs.append(text_batches.match_block(rows.to_arrow(), stats, features.height, days_per_block))
    all_pairs = pa.concat_tables(pairs)
    by_blocks = pl.from_arrow(all_pairs).sort(pl.all())
    assert by_blocks.height > 1000 and by_blocks.equals(whole["headline_pairs"].sort(pl.all()))
    groups = pl.from_arrow(
        pa.Table.from_batches(list(text_batches.group_batches(iter(all_pairs.to_batches()))))
    )
    matches = (
        features.join(groups, on="headline_id", how="left")
        .with_columns(story_id=pl.coalesce("story_id", "headline_id"))
        .select(list(text_batches.MATCH_OUTPUTS["headline_matches"]))
    )
    assert matches.sort("headline_id").equals(whole["headline_matches"].sort("headline_id"))


@pytest.mark.parametrize("new_days", ["last", "middle"])
def test_adding_new_headlines_to_a_match_finds_what_a_full_match_finds_for_them(
    corpus_items: list[dedup.Item], new_days: str
) -> None:
    """Incremental matching (match_new, merge_new): the pairs with a new headline are exactly those a
    full match over every headline has, with the same rules and scores; the older pairs stay as the
    older match scored them; the groups are the components of the old and new pairs together."""
    columns = matching.feature_rows(*(list(column) for column in zip(*corpus_items, strict=True)))
    files = [key.split(":")[0] for key, *_ in corpus_items]
    features = pl.DataFrame({"file_id": files, "line_no": 0, **columns}, schema=matching.FEATURES_SCHEMA)
    days = sorted(features["day"].unique())
    day = days[-1] if new_days == "last" else days[len(days) // 2]
    # about 4% more headlines: the first lines of that day's files (a file is 5-12% of this corpus)
    new = features.filter(pl.col("day") == day).sort("file_id", "headline_id").head(features.height // 25)
    assert new.height > 100
    con = duckdb.connect()
    con.execute("create schema intermediate")
    for name, frame in {
        "every": features,
        "new": new,
        "old": features.join(new, on="headline_id", how="anti"),
    }.items():
        con.register(f"{name}_view", frame.to_arrow())
        con.execute(f"create table {name} as select * from {name}_view")
    matching.match(con, "old", "old_pairs", "old_groups")
    con.execute(
        "create table matches as select o.headline_id, o.file_id, o.line_no, o.normalized_text, "
        "g.duplicate_group_id, g.story_id from old o join old_groups g using (headline_id)"
    )
    con.execute(f"create table token_days as {matching.token_days_sql('old')}")
    matching.add_token_days(con, "new", "token_days")
    assert (
        con.execute(
            f"select * from token_days except select * from ({matching.token_days_sql('every')})"
        ).fetchall()
        == []
    )
    matching.match_new(con, "every", "new", "token_days", features.height, "new_pairs")
    rechained = matching.drop_rechained(con, "every", "new", "old_pairs")
    changed = matching.merge_new(con, "new", "new_pairs", "matches")
    matching.match(con, "every", "full_pairs", "full_groups")

    with_new = (
        "headline_id_a in (select headline_id from new) or headline_id_b in (select headline_id from new)"
    )
    want = con.execute(f"select * from full_pairs where {with_new} order by all").fetchall()
    got = con.execute("select * from new_pairs order by all").fetchall()
    assert len(got) > 10 and got == want
    # the groups are exactly the components of the older pairs and the new ones
    con.execute("create table both_pairs as select * from old_pairs union all select * from new_pairs")
    matching.group_pairs(con, "both_pairs", "linked")
    regrouped = con.execute(
        """
        select count(*) from matches m left join linked l using (headline_id)
        where m.story_id <> coalesce(l.story_id, m.headline_id)
           or m.duplicate_group_id is distinct from l.duplicate_group_id
        """
    ).fetchall()[0][0]
    assert regrouped == 0
    assert con.execute("select count(*) from matches").fetchall()[0][0] == features.height
    if new_days == "last":  # a new headline took its place in a chain of identical texts
        assert rechained > 0
    assert changed > 0  # new headlines joined older groups, which were renamed where needed
    # what is not redone: pairs between older headlines keep the older match's IDF weights. Against a
    # full match, only story scores move, by little, so only story pairs near the threshold differ
    moved = con.execute(
        f"""
        select coalesce(f.rule, o.rule), f.score, o.score from (select * from full_pairs where not ({with_new})) f
        full join old_pairs o using (headline_id_a, headline_id_b, relation)
        where f.rule is distinct from o.rule or f.score <> o.score
        """
    ).fetchall()
    threshold = dedup.thresholds()["story_weighted_jaccard"]
    assert moved and {rule for rule, *_ in moved} == {"shared_terms"}
    assert all(abs((f or threshold) - (o or threshold)) < 0.05 for _, f, o in moved)
