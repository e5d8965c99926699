"""Property-based: arbitrary bytes and text through the loader and the line classifier (real dbt
runs): no exception escapes, and every line of every loaded file gets exactly one role."""

from __future__ import annotations

import dagster as dg
import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.definitions import ASSETS, build_defs
from tests.conftest import make_settings

LINE_SHAPES = st.one_of(
    st.just("-"),
    st.just(""),
    st.just("   \t "),
    st.sampled_from(
        ["No time to read?", "Previous Article", "Next Article", "Get a summary", "upcoming stops"]
    ),
    st.text(min_size=1, max_size=80),  # anything, including control and combining characters
    st.builds(
        " ".join,
        st.lists(
            st.sampled_from(["Stocks", "fall", "as", "traders", "eye", "data", "in", "Europe"]),
            min_size=2,
            max_size=12,
        ),
    ),
    st.builds(
        lambda words: " ".join(words) + ".",
        st.lists(
            st.sampled_from(
                ["the", "market", "fell", "sharply", "after", "a", "long", "day", "of", "trading"]
            ),
            min_size=15,
            max_size=60,
        ),
    ),
)
TEXT_FILE = st.builds(
    lambda lines, newline, encoding: newline.join(lines).encode(encoding, errors="replace"),
    st.lists(LINE_SHAPES, max_size=40),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
FILES = st.lists(st.one_of(TEXT_FILE, st.binary(max_size=400)), min_size=4, max_size=14)

SELECTION = dg.AssetSelection.groups("raw", "staging") | dg.AssetSelection.assets(
    ["intermediate", "int_line_context"],
    ["intermediate", "int_line_roles"],
    ["intermediate", "int_paragraphs"],
)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(files=FILES)
def test_every_line_of_every_loaded_file_gets_exactly_one_role(tmp_path_factory, files: list[bytes]) -> None:
    root = tmp_path_factory.mktemp("property")
    config = make_settings(root)
    for n, data in enumerate(files):
        (config.raw_dir / f"f{n:02d}.txt").write_bytes(data)
    result = dg.materialize(
        ASSETS, resources=build_defs(config).resources, instance=dg.DagsterInstance.ephemeral(),
        selection=SELECTION, raise_on_error=False,
    )  # fmt: skip
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    with duckdb.connect(str(config.warehouse), read_only=True) as con:
        outcomes = con.execute("select count(*) from raw.files").fetchall()[0][0]
        paths = con.execute("select count(*) from raw.file_paths").fetchall()[0][0]
        lost = con.execute(
            """
            select f.path, f.line_count, count(r.line_no), count(distinct r.line_no)
            from raw.files f left join intermediate.int_line_roles r using (file_id)
            where f.status = 'loaded' and f.superseded_at is null
            group by f.path, f.line_count
            having count(r.line_no) <> f.line_count or count(distinct r.line_no) <> f.line_count
            """
        ).fetchall()
        roles = {
            r for (r,) in con.execute("select distinct role from intermediate.int_line_roles").fetchall()
        }
    assert paths == len(files)  # every file has an outcome (identical contents share one)
    assert outcomes == len(set(files))
    assert lost == []
    assert roles <= {
        "separator",
        "blank",
        "headline",
        "related_headline",
        "article_title",
        "section_heading",
        "paragraph",
        "boilerplate",
    }
