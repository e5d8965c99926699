"""The whole graph through Dagster on the sample files, checked against the hand-made gold."""

from __future__ import annotations

import re
from collections import Counter

from tests.conftest import Built, read_gold, run_pipeline

TABLES = [
    "raw.files",
    "raw.lines",
    "raw.file_paths",
    "marts.line_roles",
    "marts.headlines",
    "marts.articles",
    "marts.article_paragraphs",
    "marts.headline_pairs",
    "marts.stories",
    "marts.topic_counts",
    "marts.file_quality",
    "intermediate.line_language",
    "intermediate.headline_topics",
]


def _file_names(built: Built) -> dict[str, str]:
    return dict(built.query("select file_id, path from raw.files"))


def test_run_succeeds_and_every_asset_and_check_ran(built: Built) -> None:
    assert built.result.success
    materialized = {e.asset_key.to_user_string() for e in built.result.get_asset_materialization_events()}
    for key in [
        "raw/files",
        "raw/lines",
        "staging/stg_raw__lines",
        "intermediate/int_line_roles",
        "marts/headlines",
        "marts/articles",
        "marts/article_paragraphs",
        "marts/line_roles",
        "intermediate/line_language",
        "intermediate/headline_matches",
        "marts/stories",
        "marts/topic_counts",
        "marts/file_quality",
        "marts/headline_pairs",
        "quality/report",
    ]:
        assert key in materialized
    checks = built.result.get_asset_check_evaluations()
    ge = [c for c in checks if c.check_name.startswith("ge_")]
    assert {c.check_name for c in ge} == {
        "ge_raw_suite",
        "ge_staging_suite",
        "ge_intermediate_suite",
        "ge_analysis_suite",
        "ge_marts_suite",
    }
    assert all(c.passed for c in checks), [c.asset_key for c in checks if not c.passed]


def test_schemas_are_exactly_the_layer_names(built: Built) -> None:
    schemas = {s for (s,) in built.query("select distinct schema_name from information_schema.schemata")}
    assert {"raw", "staging", "intermediate", "marts", "quality"} <= schemas
    assert not [s for s in schemas if s.endswith(("_staging", "_marts", "_intermediate"))]


def test_line_roles_match_gold(built: Built) -> None:
    names = _file_names(built)
    got = {
        (names[f], line): role
        for f, line, role in built.query("select file_id, line_no, role from marts.line_roles")
    }
    gold = {(r["file"], int(r["line_no"])): r["role"] for r in read_gold("line_roles.csv")}
    assert len(got) == len(gold) == 152  # every raw line has exactly one role
    correct = sum(1 for key, role in gold.items() if got[key] == role)
    assert correct >= 150, sorted((k, gold[k], got[k]) for k in gold if got[k] != gold[k])


def test_every_role_names_a_known_rule(built: Built) -> None:
    rows = built.query(
        "select r.rule, r.role, s.role from marts.line_roles r "
        "left join staging.line_role_rules s on s.rule = r.rule"
    )
    assert rows and all(seed_role == role for _, role, seed_role in rows)


def test_headlines_match_gold_exactly(built: Built) -> None:
    names = _file_names(built)
    got = sorted(
        (names[f], line, role, text)
        for f, line, role, text in built.query("select file_id, line_no, role, text from marts.headlines")
    )
    gold = sorted((r["file"], int(r["line_no"]), r["role"], r["text"]) for r in read_gold("headlines.csv"))
    assert Counter(role for *_, role, _ in gold) == {"headline": 61, "related_headline": 2}
    assert got == gold


def test_articles_match_gold_exactly(built: Built) -> None:
    names = _file_names(built)
    got = {
        names[f]: row
        for f, *row in built.query(
            "select file_id, title, title_line, last_line, paragraph_count, section_headings, "
            "sources_cited from marts.articles"
        )
    }
    gold = read_gold("articles.csv")
    assert set(got) == {g["file"] for g in gold}
    for g in gold:
        title, title_line, last_line, paragraphs, headings, sources = got[g["file"]]
        assert title == g["title"]
        assert title_line == int(g["title_line"])
        assert last_line == int(g["last_body_line"])
        assert paragraphs == int(g["paragraphs"])
        assert headings == [h for h in g["section_headings"].split("|") if h]
        assert sources == [s for s in g["sources_cited"].split("|") if s]


def test_article_body_and_paragraphs_are_clean(built: Built) -> None:
    for body, paragraph_count, word_count in built.query(
        "select body, paragraph_count, word_count from marts.articles"
    ):
        assert "(Source:" not in body
        assert len(body.split("\n\n")) == paragraph_count
        assert word_count == len(body.split())
    rows = built.query(
        "select a.title, p.paragraph_no, p.section_heading, p.text from marts.article_paragraphs p "
        "join marts.articles a using (article_id) order by a.title, p.paragraph_no"
    )
    azerbaijan = [r for r in rows if r[0] == "Azerbaijan defies Russia"]
    assert [r[1] for r in azerbaijan] == list(range(1, 9))
    assert azerbaijan[0][2] is None and azerbaijan[1][2] == "Background to the relations"
    assert azerbaijan[4][2] == "Escalating events"  # two paragraphs under one heading
    assert not any(re.search(r"\(\s*source", text, re.I) for *_, text in rows)


def test_quality_results_are_queryable_and_report_works_offline(built: Built) -> None:
    rows = built.query(
        "select stage, count(*), count(*) filter (where success) from quality.validation_results "
        "where run_id = ? group by stage",
        [built.result.run_id],
    )
    per_stage = {stage: (total, passed) for stage, total, passed in rows}
    assert set(per_stage) == {"raw", "staging", "intermediate", "analysis", "marts"}
    assert all(total == passed > 0 for total, passed in per_stage.values())
    index = built.settings.report_dir / "index.html"
    run_page = built.settings.report_dir / "runs" / f"{built.result.run_id}.html"
    for page in (index, run_page):
        html = page.read_text(encoding="utf-8")
        # nothing loaded from the network: no external src/href, no @import, no CDN
        assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", html, re.I)
        assert "@import" not in html
    assert built.result.run_id in index.read_text(encoding="utf-8")
    assert "expect_compound_columns_to_be_unique" in run_page.read_text(encoding="utf-8")


def test_rerun_changes_no_row_count(built: Built) -> None:
    before = {t: built.query(f"select count(*) from {t}")[0][0] for t in TABLES}
    again = run_pipeline(built.settings, built.instance)
    assert again.success
    after = {t: built.query(f"select count(*) from {t}")[0][0] for t in TABLES}
    assert after == before
    loaded = [
        e for e in again.get_asset_materialization_events() if e.asset_key.to_user_string() == "raw/files"
    ]
    assert loaded[0].materialization.metadata["files_already_loaded"].value == 2
    analysed = [
        e
        for e in again.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "intermediate/line_language"
    ]
    assert analysed[0].materialization.metadata["files_analysed"].value == 0  # nothing new to detect


def test_the_report_writes_the_current_runs_page_and_keeps_the_others(built: Built, tmp_path) -> None:
    """Each gate re-renders the report: only its own run's page (and pages missing on disk) are
    written, so a report's cost does not grow with the history of runs."""
    import os

    import duckdb

    from assets.quality_report import render_report
    from tests.conftest import copy_warehouse

    warehouse = tmp_path / "warehouse.duckdb"
    copy_warehouse(built.settings.warehouse, warehouse)
    report = tmp_path / "report"
    with duckdb.connect(str(warehouse)) as con:
        first = con.execute("select min(run_id) from quality.validation_results").fetchall()[0][0]
        render_report(con, report)  # no current run: every page
        old = report / "runs" / f"{first}.html"
        os.utime(old, ns=(1, 1))  # as written long ago
        # another run's results: the same expectations, one failing
        con.execute(
            "insert into quality.validation_results select * replace ('later-run' as run_id, "
            "now() as validated_at) from quality.validation_results where run_id = ?",
            [first],
        )
        con.execute(
            "update quality.validation_results set success = false where rowid = "
            "(select min(rowid) from quality.validation_results where run_id = 'later-run')"
        )
        index = render_report(con, report, "later-run")
        assert old.stat().st_mtime_ns == 1  # a finished run's page is left as it is
        later = (report / "runs" / "later-run.html").read_text(encoding="utf-8")
        assert ">1 failed<" in later
        assert "later-run.html" in index.read_text(encoding="utf-8") and f"{first}.html" in index.read_text(
            encoding="utf-8"
        )
        old.unlink()  # a page missing on disk is written again
        render_report(con, report, "later-run")
        assert old.exists() and ">0 failed<" in old.read_text(encoding="utf-8")
