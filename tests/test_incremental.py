"""Per-file incremental dbt models (dbt_project/macros/per_file.sql): a run builds only the files the
staging, intermediate and per-file marts tables have not seen, drops files that are no longer
current, updates the headlines whose duplicate group or story a new file changed, and rebuilds
everything when the layer's SQL or seeds (or, for the marts, the analysis rules) change. Whatever the
history, the tables equal a build from scratch on the same files."""

import json
from pathlib import Path

import dagster as dg
import duckdb

from assets import publish
from orchestration.dbt_assets import CONCURRENT_UP_TO, dbt_threads, layer_digest, layer_target
from tests.conftest import Built, copy_warehouse, make_settings, query, run_pipeline

PER_FILE = [
    "staging.stg_raw__lines",
    "intermediate.int_line_context",
    "intermediate.int_line_roles",
    "intermediate.int_paragraphs",
    "intermediate.int_article_bodies",
    "marts.line_roles",
    "marts.headlines",
    "marts.articles",
    "marts.article_paragraphs",
]
MARTS = ["marts.headline_pairs", "marts.stories", "marts.topic_counts", "marts.file_quality"]
#: A sample headline that has no duplicate in the sample: the new file repeats it.
REPEATED = "Arsenal miss chance to stretch lead in Liverpool stalemate"
NEW_FILE = (
    "Floods close schools across the north\n-\nCentral bank holds rates steady\n-\nLocal team wins the cup\n"
    f"-\n{REPEATED}\n"
)


def _rows(settings, table: str) -> list[str]:
    """The table's rows, without timestamps (when a build ran, which differs between builds)."""
    schema, name = table.split(".")
    columns = [
        c
        for c, kind in query(
            settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        )
        if not kind.startswith("TIMESTAMP")
    ]
    return sorted(map(repr, query(settings, f"select {', '.join(columns)} from {table}")))


def _threads_used(layer: str) -> int:
    """How many of dbt's worker threads ran nodes in the layer's last build (its run_results.json)."""
    path = layer_target(layer) / "run_results.json"
    return len({r["thread_id"] for r in json.loads(path.read_text())["results"] if r["thread_id"] != "main"})


def _copy_of(source, root: Path):
    """Settings under `root` with a copy of `source`'s warehouse and landing folder."""
    settings = make_settings(root)
    copy_warehouse(source.warehouse, settings.warehouse)
    for path in source.raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    return settings


def _marts_rebuilt(settings, root: Path):
    """A copy of `settings`' warehouse and files under `root` whose marts were rebuilt from scratch
    (the layer's build record dropped: a full refresh) from the same analysis tables."""
    rebuilt = _copy_of(settings, root)
    with duckdb.connect(str(rebuilt.warehouse)) as con:
        con.execute("delete from intermediate.dbt_layer_builds where layer = 'marts'")
    assert run_pipeline(rebuilt).success
    return rebuilt


def test_only_a_small_incremental_build_runs_two_dbt_threads() -> None:
    assert dbt_threads(full_refresh=False, new_files=1) == 2
    assert dbt_threads(full_refresh=False, new_files=CONCURRENT_UP_TO) == 2
    assert dbt_threads(full_refresh=False, new_files=CONCURRENT_UP_TO + 1) == 1
    assert dbt_threads(full_refresh=True, new_files=1) == 1


def _from_scratch(raw_dir: Path, root: Path):
    """The same landing folder built into an empty warehouse."""
    settings = make_settings(root)
    for path in raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    assert run_pipeline(settings).success
    return settings


def test_a_new_file_adds_only_its_rows_and_a_changed_file_replaces_its_own(
    built: Built, tmp_path: Path
) -> None:
    settings = _copy_of(built.settings, tmp_path / "grown")
    copy_warehouse(built.settings.analytics_path, settings.analytics_path)  # its last analyst copy
    before = {t: _rows(settings, t) for t in PER_FILE}

    groups_before = query(
        settings, "select duplicate_group_id from marts.headlines where text = ?", [REPEATED]
    )
    assert groups_before == [(None,)]
    (settings.raw_dir / "late_desk.txt").write_text(NEW_FILE, encoding="utf-8")
    result = run_pipeline(settings)
    assert result.success
    # one new file: the marts' build ran two dbt nodes at once (dbt_assets.CONCURRENT_UP_TO)
    assert _threads_used("marts") == 2
    # each gate validated its per-file tables on the new file only (orchestration/checks.gate_scope)
    validated = {
        (c.asset_key.to_user_string(), c.metadata["validated"].value) for c in result.get_asset_check_evaluations()
        if c.check_name.startswith("ge_")
    }  # fmt: skip
    assert ("raw/lines", "the rows of 1 files not yet validated") in validated
    assert ("marts/headlines", "the rows of 1 files not yet validated") in validated
    # and the stories, pairs and topic counts on the rows the new match stamped
    # (orchestration/checks.matched_scope); a story's uniqueness on the whole table
    since = {v for k, v in validated if k == "marts/stories"}
    assert len(since) == 1 and since.pop().startswith("the rows of the matches since ")
    new_id = query(settings, "select file_id from raw.files where path = 'late_desk.txt'")[0][0]
    # matching added the new file's headlines to the last match (assets/analysis.plan_matching)
    assert query(settings, "select mode, reason from intermediate.matching_state") == [
        ("incremental", "1 new files, 4 headlines")
    ]
    for table in [*PER_FILE[:3], "marts.line_roles"]:
        after = _rows(settings, table)
        old = sorted(r for r in after if new_id not in r)
        assert old == before[table], table  # the old files' rows are untouched
        assert len(after) - len(old) == len(NEW_FILE.splitlines()), table  # its lines, no article
    # the old headline the new file repeats is now in a duplicate group with it; no other old
    # headline changed
    groups = query(
        settings, "select file_id, duplicate_group_id from marts.headlines where text = ?", [REPEATED]
    )
    assert len(groups) == 2 and groups[0][1] is not None and groups[0][1] == groups[1][1]
    after = _rows(settings, "marts.headlines")
    unchanged = sorted(r for r in after if new_id not in r and REPEATED not in r)
    assert unchanged == sorted(r for r in before["marts.headlines"] if REPEATED not in r)
    # the aggregate marts redid only what the new file touched, and equal the marts rebuilt whole
    # from the same analysis tables
    assert query(settings, "select count(distinct matched_at) from marts.stories") == [(2,)]
    rebuilt = _marts_rebuilt(settings, tmp_path / "rebuilt")
    assert _threads_used("marts") == 1  # a full refresh builds one node at a time
    assert query(rebuilt, "select mode, reason from intermediate.matching_state") == [
        ("incremental", "1 new files, 4 headlines")
    ]
    assert query(rebuilt, "select count(distinct matched_at) from marts.stories") == [(1,)]
    for table in ["marts.headlines", *MARTS]:
        assert _rows(settings, table) == _rows(rebuilt, table), table
    # the analyst copy took the regrouped older headline and the new pairs without a whole copy
    _assert_copy_mirrors_warehouse(settings)
    synced = query_copy(settings, "select tables_synced from quality.publications order by published_at")
    assert synced[-1] == (len(publish.SYNCED),)

    # a second new file: this copy starts from the one before the last, kept beside it, and takes
    # both runs' changes from the match log; the publication history comes from the last copy
    (settings.raw_dir / "late_desk_2.txt").write_text(
        "Harbour reopens after the storm\n-\nCentral bank holds rates steady\n", encoding="utf-8"
    )
    assert run_pipeline(settings).success
    assert query(settings, "select mode from intermediate.matching_state") == [("incremental",)]
    _assert_copy_mirrors_warehouse(settings)
    started = query_copy(settings, "select started_from from quality.publications order by published_at")
    history = query_copy(built.settings, "select count(*) from quality.publications")[0][0]
    assert [s for (s,) in started][history:] == ["copy", "previous"]
    synced = query_copy(settings, "select tables_synced from quality.publications order by published_at")
    assert synced[-1] == (len(publish.SYNCED),)

    # the same path with new content: the old version's rows go, the new version's come
    (settings.raw_dir / "late_desk.txt").write_text(
        NEW_FILE + "-\nStorm warning for the coast\n", encoding="utf-8"
    )
    assert run_pipeline(settings).success
    assert query(settings, "select count(*) from staging.stg_raw__lines where file_id = ?", [new_id]) == [
        (0,)
    ]
    assert query(settings, "select mode, reason from intermediate.matching_state") == [
        ("full", "1 matched files are no longer current")
    ]
    scratch = _from_scratch(settings.raw_dir, tmp_path / "scratch")
    for table in PER_FILE + MARTS:
        assert _rows(settings, table) == _rows(scratch, table), table
    # the analyst copy, carried forward from the one before the last, mirrors its warehouse
    _assert_copy_mirrors_warehouse(settings)
    assert query_copy(settings, "select started_from from quality.publications order by published_at")[
        -1
    ] == ("previous",)
    synced = query_copy(settings, "select tables_synced from quality.publications order by published_at")
    assert synced[-1] == (len(publish.SYNCED),)


def query_copy(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.analytics_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _assert_copy_mirrors_warehouse(settings) -> None:
    tables = query_copy(
        settings,
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_name <> 'publications' order by 1",
    )
    assert len(tables) >= 12
    for (table,) in tables:
        copied = sorted(map(repr, query_copy(settings, f"select * from {table}")))
        assert copied == sorted(map(repr, query(settings, f"select * from {table}"))), table


def test_a_change_to_the_layers_sql_rebuilds_every_file(built: Built, tmp_path: Path) -> None:
    settings = _copy_of(built.settings, tmp_path)
    assert query(settings, "select layer, digest from intermediate.dbt_layer_builds order by layer") == [
        ("intermediate", layer_digest("intermediate")),
        ("marts", layer_digest("marts")),
        ("staging", layer_digest("staging")),
    ]
    expected = _rows(settings, "intermediate.int_line_roles")
    with duckdb.connect(str(settings.warehouse)) as con:
        # rows as an older version of the rules would have left them
        con.execute("update intermediate.int_line_roles set rule = 'old_rule'")
    assert run_pipeline(settings).success
    assert query(settings, "select count(*) from intermediate.int_line_roles where rule = 'old_rule'") != [
        (0,)
    ]

    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(
            "update intermediate.dbt_layer_builds set digest = 'older rules' where layer = 'intermediate'"
        )
    assert run_pipeline(settings).success
    assert _rows(settings, "intermediate.int_line_roles") == expected
    assert query(
        settings, "select digest from intermediate.dbt_layer_builds where layer = 'intermediate'"
    ) == [(layer_digest("intermediate"),)]


def test_a_build_in_batches_of_files_equals_one_build(built: Built, tmp_path: Path, monkeypatch) -> None:
    """A large build runs FILES_PER_BUILD files per dbt invocation (memory stays bounded at any size);
    one file per batch gives the same tables as the session's single build."""
    from orchestration import dbt_assets

    monkeypatch.setattr(dbt_assets, "FILES_PER_BUILD", 1)
    settings = make_settings(tmp_path)
    for path in built.settings.raw_dir.iterdir():
        (settings.raw_dir / path.name).write_bytes(path.read_bytes())
    assert len(list(settings.raw_dir.iterdir())) >= 2
    instance = dg.DagsterInstance.ephemeral()
    result = run_pipeline(settings, instance)
    assert result.success
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    files = len(list(settings.raw_dir.iterdir()))
    for layer in ("staging", "intermediate", "marts"):
        assert [m for m in logged if m.startswith(f"{layer}: files ")] == [
            f"{layer}: files {n}-{n} of {files}" for n in range(1, files)
        ]
    for table in PER_FILE + MARTS:
        assert _rows(settings, table) == _rows(built.settings, table), table

    # the marts' SQL changed: a rebuild in batches starts every marts table again, the incremental
    # ones that are not per file (aggregates, pairs) too, though the batches took the --full-refresh
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update intermediate.dbt_layer_builds set digest = 'older rules' where layer = 'marts'")
        con.execute("update marts.stories set canonical_headline = 'as older rules left it'")
        con.execute("update marts.headline_pairs set text_a = 'as older rules left it'")
    assert run_pipeline(settings, instance).success
    for table in PER_FILE + MARTS:
        assert _rows(settings, table) == _rows(built.settings, table), table


def test_new_analysis_rules_rebuild_the_marts(built: Built, tmp_path: Path, monkeypatch) -> None:
    """The per-file marts copy the text analysis' results: when its rules change (a new analysis
    version), every file's marts rows are built again, not only new files'."""
    from orchestration import dbt_assets

    settings = _copy_of(built.settings, tmp_path)
    expected = _rows(settings, "marts.headlines")
    assert run_pipeline(settings).success  # nothing new: publishes a copy synced file by file
    assert query_copy(settings, "select tables_synced from quality.publications") == [(0,)]
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update marts.headlines set topic = 'old_topic'")  # as older rules left it
    # same rules: the build keeps the stored rows (and the marts gate, which checks every headline's
    # topic, rejects this made-up one)
    assert not run_pipeline(settings).success
    assert query(settings, "select count(*) from marts.headlines where topic = 'old_topic'") == [(63,)]

    monkeypatch.setattr(dbt_assets, "analysis_version", lambda: "rules of another day")
    assert run_pipeline(settings).success
    assert _rows(settings, "marts.headlines") == expected
    # marts built from scratch: the analyst copy takes every table whole, not file by file
    assert query_copy(settings, "select tables_synced from quality.publications order by published_at")[
        -1
    ] == (0,)
    _assert_copy_mirrors_warehouse(settings)
    assert query(settings, "select digest from intermediate.dbt_layer_builds where layer = 'marts'") == [
        (layer_digest("marts"),)
    ]


def test_the_marts_apply_the_match_log_and_compare_whole_tables_after_a_full_match(
    built: Built, tmp_path: Path
) -> None:
    """After an incremental match the marts apply what it logged (intermediate.pair_changes,
    intermediate.regrouped_headlines: macros/marts.sql) and read nothing else of the pairs: a pair
    removed behind the pipeline's back stays removed. A new identical headline between two older
    ones in the chain replaces their pair, and the marts drop it. After a full match the marts compare
    whole tables again, and the lost pair is back."""
    from assets.decoding import sha256_hex
    from assets.file_analysis import headline_id

    settings = _copy_of(built.settings, tmp_path)
    (settings.raw_dir / "desk_a.txt").write_text(f"Desk A\n-\n{REPEATED}\n", encoding="utf-8")
    assert run_pipeline(settings).success
    chain = query(
        settings,
        "select headline_id, line_no from marts.headlines where text = ? order by headline_id",
        [REPEATED],
    )
    assert len(chain) == 2
    # a third copy whose id falls between the two: it takes the place of their pair in the chain
    low, high, line_no = chain[0][0], chain[1][0], chain[1][1]
    content = next(
        text
        for text in (f"Desk B{k}\n-\n{REPEATED}\n" for k in range(10_000))
        if low < headline_id(sha256_hex(text.encode()), line_no) < high
    )
    (settings.raw_dir / "desk_b.txt").write_text(content, encoding="utf-8")
    pair = "headline_id_a, headline_id_b, relation, score, rule"
    with duckdb.connect(str(settings.warehouse)) as con:
        lost = con.execute(
            f"select {pair} from marts.headline_pairs where relation = 'story' order by all limit 1"
        ).fetchall()[0]
        con.execute(
            "delete from marts.headline_pairs where headline_id_a = ? and headline_id_b = ? and rule = ?",
            [lost[0], lost[1], lost[4]],
        )
    assert run_pipeline(settings).success

    match = query(settings, "select mode, matched_at from intermediate.matching_state")[0]
    assert match[0] == "incremental"
    changes = query(
        settings,
        "select change, count(*) from intermediate.pair_changes where matched_at = ? group by 1",
        [match[1]],
    )
    assert dict(changes)["removed"] == 1 and dict(changes)["added"] >= 2
    removed = query(settings, f"select {pair} from intermediate.pair_changes where change = 'removed'")
    assert removed == [(low, high, "duplicate", 1.0, "exact_normalized")]
    middle = headline_id(sha256_hex(content.encode()), line_no)
    chained = query(
        settings,
        "select headline_id_a, headline_id_b from marts.headline_pairs where rule = 'exact_normalized' "
        "and ? in (headline_id_a, headline_id_b) order by all",
        [middle],
    )
    assert chained == [(low, middle), (middle, high)]
    # the marts hold the matcher's pairs but the one lost behind its back: nothing else was compared
    marts = set(query(settings, f"select {pair} from marts.headline_pairs"))
    matcher = set(query(settings, f"select {pair} from intermediate.headline_pairs"))
    assert matcher - marts == {lost} and marts - matcher == set()
    # every headline's groups follow the match
    assert query(
        settings,
        "select count(*) from marts.headlines h join intermediate.headline_matches m using (headline_id) "
        "where h.story_id <> m.story_id or h.duplicate_group_id is distinct from m.duplicate_group_id",
    ) == [(0,)]
    regrouped = query(
        settings, "select headline_id from intermediate.regrouped_headlines where matched_at = ?", [match[1]]
    )
    assert (middle,) in regrouped

    # a full match (the headlines grew past rematch_growth): the log is emptied, the tables compared
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update intermediate.matching_state set headlines_at_full = 1")
    (settings.raw_dir / "desk_c.txt").write_text("Desk C\n-\nA new bridge opens downtown\n", encoding="utf-8")
    result = run_pipeline(settings)
    assert result.success
    assert query(settings, "select mode from intermediate.matching_state") == [("full",)]
    # a full match can split groups: the marts gate validates the matched tables whole again
    assert {
        c.metadata["validated"].value for c in result.get_asset_check_evaluations()
        if c.check_name == "ge_marts_suite"
        and c.asset_key.to_user_string() in ("marts/stories", "marts/headline_pairs", "marts/topic_counts")
    } == {"the whole table"}  # fmt: skip
    assert query(settings, "select count(*) from intermediate.pair_changes") == [(0,)]
    assert set(query(settings, f"select {pair} from marts.headline_pairs")) == set(
        query(settings, f"select {pair} from intermediate.headline_pairs")
    )


#: Two sample headlines in stories of their own, and a new headline that tells both.
APART = (
    "Olympic champion Zheng out of Australian Open",
    "Rare gorilla twins born in conflict-hit DR Congo nature park",
)
BRIDGE = "Olympic champion Zheng out of Australian Open as rare gorilla twins born in DR Congo nature park"


def _plant_story(settings, story_id: str) -> None:
    """A stories row no headline names, written behind the pipeline's back with an older stamp."""
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute(
            "insert into marts.stories by name select ? as story_id, topic, language, matched_at "
            "from marts.stories limit 1",
            [story_id],
        )


def test_a_story_a_merge_empties_is_dropped_and_only_such_stories_are_compared(
    built: Built, tmp_path: Path
) -> None:
    """A new headline that joins two older stories merges them under the smaller id. marts.stories
    drops the emptied story from the headlines the merge re-stamped (macros/marts.sql,
    delete_emptied_stories), without comparing every story with every headline: a story row no
    headline names, planted behind the pipeline's back, survives that run and goes at the next full
    match. Otherwise the table equals a build from scratch."""
    settings = _copy_of(built.settings, tmp_path / "merged")
    marks = ",".join("?" * len(APART))
    before = {
        s
        for (s,) in query(
            settings, f"select story_id from marts.headlines where text in ({marks})", list(APART)
        )
    }
    assert len(before) == 2
    planted = "0" * 32
    _plant_story(settings, planted)
    (settings.raw_dir / "desk_bridge.txt").write_text(f"Desk bridge\n-\n{BRIDGE}\n", encoding="utf-8")
    assert run_pipeline(settings).success
    assert query(settings, "select mode from intermediate.matching_state") == [("incremental",)]
    after = {
        s
        for (s,) in query(
            settings, f"select story_id from marts.headlines where text in ({marks})", list(APART)
        )
    }
    assert len(after) == 1  # merged
    emptied = sorted(before - after)
    assert emptied
    stories = {s for (s,) in query(settings, "select story_id from marts.stories")}
    assert not stories & set(emptied) and after <= stories
    assert planted in stories  # not a candidate: no headline re-stamped by this match names it

    rebuilt = _marts_rebuilt(settings, tmp_path / "rebuilt")
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("delete from marts.stories where story_id = ?", [planted])
    assert _rows(settings, "marts.stories") == _rows(rebuilt, "marts.stories")

    # a full match compares every story again: a planted row goes
    _plant_story(settings, planted)
    with duckdb.connect(str(settings.warehouse)) as con:
        con.execute("update intermediate.matching_state set headlines_at_full = 1")
    (settings.raw_dir / "desk_later.txt").write_text(
        "Desk later\n-\nA new bridge opens downtown\n", encoding="utf-8"
    )
    assert run_pipeline(settings).success
    assert query(settings, "select mode from intermediate.matching_state") == [("full",)]
    assert not query(settings, "select story_id from marts.stories where story_id = ?", [planted])


#: A sample story (four headlines, one file) and a new headline that joins it without repeating one.
STOCKS = "Stocks mixed as traders await US jobs data, oil rebounds"
JOINS_STOCKS = "Traders await US jobs data as Asian stocks slide"


def test_a_story_that_only_gains_a_headline_recounts_only_the_new_day(built: Built, tmp_path: Path) -> None:
    """topic_counts redoes the days of the headlines matched since its last build, and every day of a
    story only when the story's topic, language or id changed (stories.labelled_at). On a warehouse
    loaded over two days, a new headline today that joins a story of two days ago leaves that day's
    cells as they were (not rewritten), and the table equals a build from scratch."""
    from assets.decoding import sha256_hex
    from assets.file_analysis import headline_id

    settings = _copy_of(built.settings, tmp_path / "days")
    story = query(settings, "select story_id, file_id from marts.headlines where text = ?", [STOCKS])[0]
    with duckdb.connect(str(settings.warehouse)) as con:  # the story's file came two days ago
        con.execute(
            "update raw.files set loaded_at = loaded_at - interval 2 day where file_id = ?", [story[1]]
        )
        con.execute("delete from intermediate.dbt_layer_builds")  # every layer rebuilt with that date
    assert run_pipeline(settings).success
    days = [d for (d,) in query(settings, "select distinct day from marts.topic_counts order by day")]
    assert len(days) == 2
    old_day = query(settings, "select load_date from marts.headlines where text = ?", [STOCKS])[0][0]
    assert old_day == days[0]
    before = query(settings, "select * from marts.topic_counts where day = ? order by all", [old_day])

    # a new file today; its headline's id sorts after the story's, so the story keeps its id
    content = next(
        text
        for text in (f"Desk S{k}\n-\n{JOINS_STOCKS}\n" for k in range(10_000))
        if all(headline_id(sha256_hex(text.encode()), n) > story[0] for n in (2, 3))
    )
    (settings.raw_dir / "desk_s.txt").write_text(content, encoding="utf-8")
    assert run_pipeline(settings).success
    assert query(settings, "select mode from intermediate.matching_state") == [("incremental",)]
    joined = query(
        settings,
        "select story_id, duplicate_group_id, load_date from marts.headlines where text = ?",
        [JOINS_STOCKS],
    )
    assert joined == [(story[0], None, days[1])]  # in the story, no duplicate, today
    assert query(
        settings, "select topic, labelled_at < matched_at from marts.stories where story_id = ?", [story[0]]
    ) == [
        ("economy_business", True)  # rewritten with its new headline, its topic unchanged
    ]
    # the story's old day: not recounted (its cells keep the stamp of the build before)
    assert query(settings, "select * from marts.topic_counts where day = ? order by all", [old_day]) == before
    latest = query(settings, "select max(matched_at) from intermediate.matching_state")[0][0]
    assert {
        d for (d,) in query(settings, "select day from marts.topic_counts where matched_at = ?", [latest])
    } == {days[1]}

    rebuilt = _marts_rebuilt(settings, tmp_path / "rebuilt")
    for table in ("marts.topic_counts", "marts.stories"):
        assert _rows(settings, table) == _rows(rebuilt, table), table
