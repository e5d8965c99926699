"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright.

Playwright comes from PyPI; its own browser download is never used (no network here). `make test`
installs the system chromium where it is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Without the background-networking flags Chromium keeps dialling Google's hosts, which a closed
#: network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("NEWSROOM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium (see README)")
    return path


@dataclass
class PageLog:
    """What a page asked for that did not work: failed or blocked requests, console errors."""

    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@contextmanager
def browser_page(allowed_prefixes: tuple[str, ...], viewport=(1400, 900)) -> Iterator[tuple[object, PageLog]]:
    """A fresh page whose requests outside `allowed_prefixes` are blocked (the network is 'off')."""
    from playwright.sync_api import sync_playwright

    log = PageLog()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})

            def gate(route) -> None:
                url = route.request.url
                if url.startswith(allowed_prefixes) or url.startswith("data:"):
                    route.continue_()
                else:
                    log.blocked_requests.append(url)
                    route.abort("internetdisconnected")

            context.route("**/*", gate)
            page = context.new_page()
            page.on("requestfailed", lambda request: log.failed_requests.append(request.url))
            page.on("console", lambda msg: msg.type == "error" and log.console_errors.append(msg.text))
            yield page, log
        finally:
            browser.close()


def screenshot_dir() -> Path:
    """Screenshots for the README land in docs/img/ (committed, so readers see the real UI)."""
    path = Path(__file__).resolve().parents[1] / "docs" / "img"
    path.mkdir(parents=True, exist_ok=True)
    return path
