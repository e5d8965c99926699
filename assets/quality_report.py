"""The data-quality report: validation history in DuckDB and a self-contained HTML report.

Every gate appends its results to `quality.validation_results`; the report is rendered from that
table (not from GE Data Docs, whose HTML loads CSS/JS from CDNs and looks broken offline). All
styles are inline and nothing is fetched, so the pages open correctly with no network.
"""

import datetime as dt
import html
import json
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import duckdb

from assets.raw_store import transaction
from orchestration.gx_suites import ExpectationOutcome
from orchestration.resources import NewsroomPaths, Warehouse
from orchestration.settings import PIPELINE_OWNER, WRITER_POOL

RESULTS_DDL = """
create schema if not exists quality;
create table if not exists quality.validation_results (
    run_id            varchar not null,
    stage             varchar not null,
    table_name        varchar not null,
    expectation       varchar not null,
    description       varchar,
    kwargs            varchar,
    success           boolean not null,
    observed_value    varchar,
    unexpected_count  bigint,
    examples          varchar,
    error             varchar,
    validated_at      timestamp not null
);
"""

MARTS = [
    "headlines",
    "articles",
    "article_paragraphs",
    "line_roles",
    "headline_pairs",
    "stories",
    "topic_counts",
    "file_quality",
]


def record_results(
    con: duckdb.DuckDBPyConnection, run_id: str, outcomes: Iterable[ExpectationOutcome]
) -> None:
    """Append a gate's results; re-validating the same tables in the same run replaces them."""
    outcomes = list(outcomes)
    con.execute(RESULTS_DDL)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(con):
        _replace_results(con, run_id, outcomes, now)


def _replace_results(
    con: duckdb.DuckDBPyConnection, run_id: str, outcomes: list[ExpectationOutcome], now: dt.datetime
) -> None:
    for stage, table in {(o.stage, o.table) for o in outcomes}:
        con.execute(
            "delete from quality.validation_results where run_id = ? and stage = ? and table_name = ?",
            [run_id, stage, table],
        )
    con.executemany(
        "insert into quality.validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                o.stage,
                o.table,
                o.expectation,
                o.description,
                json.dumps(o.kwargs, default=str),
                o.success,
                json.dumps(o.observed_value, default=str),
                o.unexpected_count,
                json.dumps(o.examples, default=str),
                o.error,
                now,
            ]
            for o in outcomes
        ],
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.5rem;margin:0 0 .25rem} h2{font-size:1.15rem;margin-top:2rem} h3{font-size:1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{border:1px solid #dde1e6;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f2f5} .pass{color:#0a7d32;font-weight:600} .fail{color:#b3261e;font-weight:600}
tr.failrow{background:#fdf0ef} code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}
pre{white-space:pre-wrap;word-break:break-word;margin:0;max-height:12rem;overflow:auto} .muted{color:#5f6b7a}
code.args{word-break:break-all;white-space:pre-wrap}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.8rem;color:#fff}
.badge.pass{background:#0a7d32} .badge.fail{background:#b3261e} a{color:#0b57d0}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _trend_svg(rates: list[float]) -> str:
    """Inline SVG line of pass rate per run, oldest left; no script, no external resource."""
    if not rates:
        return ""
    width, height, pad = 480, 80, 6
    step = (width - 2 * pad) / max(len(rates) - 1, 1)
    left = width / 2 if len(rates) == 1 else pad  # a single run sits in the middle, not in a corner
    points = " ".join(
        f"{left + i * step:.1f},{pad + (1 - r) * (height - 2 * pad):.1f}" for i, r in enumerate(rates)
    )
    dots = "".join(
        f"<circle cx='{left + i * step:.1f}' cy='{pad + (1 - r) * (height - 2 * pad):.1f}' r='3' "
        f"fill='{'#0a7d32' if r == 1 else '#b3261e'}'><title>{r:.0%}</title></circle>"
        for i, r in enumerate(rates)
    )
    return (
        f"<svg role='img' aria-label='pass rate per run' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' style='background:#fff;border:1px solid #dde1e6'>"
        f"<polyline fill='none' stroke='#0b57d0' stroke-width='2' points='{points}'/>{dots}</svg>"
    )


def render_report(con: duckdb.DuckDBPyConnection, report_dir: Path, current: str | None = None) -> Path:
    """Write index.html (all runs, pass-rate trend) and runs/<run_id>.html; return the index path.

    A run's page is written for `current` (the run validating now: each gate adds to it) and for runs
    whose page is missing; the others are left as they are, since a finished run's results never
    change. Rewriting every page at every gate made each run's report cost grow with the history (a
    run every 15 minutes is 35,000 pages a year, six times a run). `current` None: every page."""
    con.execute(RESULTS_DDL)
    runs = con.execute(
        """
        select run_id, min(validated_at) as started, count(*) as total,
               count(*) filter (where success) as passed,
               string_agg(distinct stage, ', ' order by stage) as stages
        from quality.validation_results group by run_id order by started
        """
    ).fetchall()
    (report_dir / "runs").mkdir(parents=True, exist_ok=True)
    rows = []
    for run_id, started, total, passed, stages in reversed(runs):
        failed = total - passed
        badge = (
            "<span class='badge pass'>pass</span>" if not failed else "<span class='badge fail'>fail</span>"
        )
        rows.append(
            f"<tr class='{'failrow' if failed else ''}'><td>{badge}</td>"
            f"<td><a href='runs/{html.escape(run_id)}.html'><code>{html.escape(run_id[:8])}</code></a></td>"
            f"<td>{started:%Y-%m-%d %H:%M:%S} UTC</td><td>{html.escape(stages)}</td>"
            f"<td>{passed}</td><td>{failed}</td><td>{passed / total:.0%}</td></tr>"
        )
        page = report_dir / "runs" / f"{run_id}.html"
        if run_id == current or current is None or not page.exists():
            _render_run(con, page, run_id, started)
    body = (
        "<h1>newsroom data-quality report</h1>"
        f"<p class='muted'>{len(runs)} run{'s' if len(runs) != 1 else ''} validated. Every gate is a Great Expectations suite in "
        "<code>expectations/</code>; history is in <code>quality.validation_results</code>.</p>"
        "<h2>Pass rate per run</h2>" + _trend_svg([p / t for _, _, t, p, _ in runs]) + "<h2>Runs</h2>"
        "<table><thead><tr><th>status</th><th>run</th><th>validated</th><th>stages</th>"
        "<th>passed</th><th>failed</th><th>pass rate</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    index = report_dir / "index.html"
    index.write_text(_page("newsroom data quality", body), encoding="utf-8")
    return index


def _render_run(con: duckdb.DuckDBPyConnection, path: Path, run_id: str, started: dt.datetime) -> None:
    results = con.execute(
        """
        select stage, table_name, expectation, description, kwargs, success, observed_value,
               unexpected_count, examples, error
        from quality.validation_results where run_id = ?
        order by case stage when 'raw' then 1 when 'staging' then 2 when 'intermediate' then 3
                 when 'analysis' then 4 when 'marts' then 5 else 6 end, table_name, expectation
        """,
        [run_id],
    ).fetchall()
    sections: dict[str, list[str]] = {}
    failures: list[str] = []
    for stage, table, exp, desc, kwargs, success, observed, unexpected, examples, error in results:
        cls = "pass" if success else "fail"
        detail = "" if success or examples in (None, "[]") else f"<pre>{html.escape(examples)}</pre>"
        if error:
            detail += f"<pre>{html.escape(error)}</pre>"
        row = (
            f"<tr class='{'' if success else 'failrow'}'><td class='{cls}'>{cls}</td>"
            f"<td><code>{html.escape(exp)}</code><br><span class='muted'>{html.escape(desc or '')}</span></td>"
            f"<td><code class='args'>{html.escape(kwargs or '')}</code></td><td><code>{html.escape(observed or '')}</code></td>"
            f"<td>{'' if unexpected is None else unexpected}</td><td>{detail}</td></tr>"
        )
        sections.setdefault(f"{stage} — {table}", []).append(row)
        if not success:  # failures also head the page, with their gate and table, so none is missed
            failures.append(
                row.replace(
                    "<td><code>", f"<td><b>{html.escape(stage)} — {html.escape(table)}</b><br><code>", 1
                )
            )
    failed = len(failures)
    body = (
        "<p><a href='../index.html'>← all runs</a></p>"
        f"<h1>Run <code>{html.escape(run_id)}</code></h1>"
        f"<p class='muted'>{started:%Y-%m-%d %H:%M:%S} UTC · {len(results) - failed} passed · "
        f"<span class='{'fail' if failed else 'pass'}'>{failed} failed</span></p>"
    )
    if failures:
        sections = {"Failures": failures, **sections}
    for title, rows in sections.items():
        body += (
            f"<h3>{html.escape(title)}</h3><table><thead><tr><th>status</th><th>expectation</th>"
            "<th>arguments</th><th>observed</th><th>unexpected</th><th>failing examples</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    path.write_text(_page(f"newsroom run {run_id[:8]}", body), encoding="utf-8")


@dg.asset(
    key=["quality", "report"],
    group_name="quality",
    kinds={"python", "duckdb", "html", "great_expectations"},
    owners=[PIPELINE_OWNER],
    deps=[dg.AssetKey(["marts", name]) for name in MARTS],
    pool=WRITER_POOL,
    description=(
        "The data-quality report (HTML, works offline) rendered from quality.validation_results: "
        "every gate, expectation, observed value and failing example, and the pass-rate trend."
    ),
)
def quality_report(
    context: dg.AssetExecutionContext, duckdb: Warehouse, paths: NewsroomPaths
) -> dg.MaterializeResult:
    with duckdb.get_connection() as con:
        index = render_report(con, paths.report_path, context.run.run_id)
        runs, total, passed = con.execute(
            "select count(distinct run_id), count(*), count(*) filter (where success) "
            "from quality.validation_results"
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(index)),
            "report_url": dg.MetadataValue.url(index.resolve().as_uri()),
            "runs_in_history": runs,
            "expectations_evaluated": total,
            "pass_rate": passed / total if total else None,
        }
    )
