"""The quality report and the dbt docs page, opened as a person opens them: in headless Chromium,
from disk, with every network request blocked."""

from __future__ import annotations

from pathlib import Path

from tests.browser import browser_page, screenshot_dir
from tests.conftest import Built


def test_report_renders_offline_and_shows_the_provoked_failure(failed_marts_gate: Built) -> None:
    report = failed_marts_gate.settings.report_dir
    run_id = failed_marts_gate.result.run_id
    with browser_page(allowed_prefixes=("file://",)) as (page, log):
        page.goto((report / "index.html").as_uri())
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "newsroom data-quality report"
        assert page.locator("svg").count() >= 1  # the pass-rate trend chart
        failing_run = page.locator("tr.failrow", has_text=run_id[:8])
        assert failing_run.count() == 1 and "fail" in failing_run.inner_text()

        failing_run.locator("a").click()  # to the run's own page, as a reader would
        page.wait_for_load_state("load")
        assert page.url.endswith(f"runs/{run_id}.html")
        failure = page.locator("tr.failrow", has_text="expect_column_value_lengths_to_be_between")
        assert failure.count() >= 1
        row = failure.first.inner_text()
        assert '["x"]' in row and "Headline lengths are plausible" in row  # the failing example is shown
        assert "marts.headlines" in page.content()
        assert page.locator("td.pass").count() > 10  # the expectations that passed are listed too
        assert page.locator("h3").first.inner_text() == "Failures"  # failures head the page
        assert "marts — marts.headlines" in failure.first.inner_text()
        box = failure.first.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0  # really laid out, not hidden
        page.screenshot(path=str(screenshot_dir() / "quality_report_failed_run.png"), full_page=False)
    assert log.blocked_requests == [] and log.failed_requests == [] and log.console_errors == []


def test_dbt_docs_page_renders_offline(dbt_docs: Path) -> None:
    page_path = dbt_docs / "static_index.html"
    with browser_page(allowed_prefixes=("file://",)) as (page, log):
        page.goto(page_path.as_uri() + "#!/model/model.newsroom.headlines")
        page.get_by_text("duplicate_group_id").first.wait_for(timeout=30_000)
        assert "Every headline" in page.content()
        page.screenshot(path=str(screenshot_dir() / "dbt_docs_headlines.png"))
    # Everything the docs need is inside the one file; dbt's page only asks for web fonts online.
    assert [u for u in log.blocked_requests if "fonts" not in u] == []
    # Its icons and favicon are file: URLs left as templates ("{{ getIcon(...) }}", "${require(...)}") that Chromium
    # refuses or cannot find from a file page: cosmetic and dbt's own; nothing else may fail.
    assert [u for u in log.failed_requests if "%7B" not in u and "fonts" not in u] == []
    harmless = ("Unsafe attempt to load URL file:", "Failed to load resource: net::ERR_FILE_NOT_FOUND")
    assert [e for e in log.console_errors if not e.startswith(harmless)] == []
