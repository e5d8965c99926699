"""`make ui` as a user starts it: `dagster dev` on 127.0.0.1 with a project DAGSTER_HOME, asked over
its GraphQL API (what the UI itself reads) whether every asset, check, job, schedule and sensor loaded,
then used in headless Chromium: groups, checks, a whole-graph materialization and its metadata."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import command_env
from orchestration.definitions import defs
from orchestration.settings import PROJECT_ROOT, Settings
from tests.browser import browser_page, screenshot_dir
from tests.conftest import copy_sample, make_settings

GROUPS = ("raw", "staging", "intermediate", "marts", "quality")

QUERY = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { name
      jobs { name } schedules { name } sensors { name }
      assetNodes { assetKey { path } groupName
        assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } } } } } } } }
"""


def _listening_addresses(port: int) -> set[str]:
    """IPv4 addresses listening on `port`, from /proc/net/tcp (state 0A = LISTEN)."""
    addresses = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        host, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            addresses.add(socket.inet_ntoa(bytes.fromhex(host)[::-1]))
    return addresses


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@dataclass
class UiServer:
    port: int
    settings: Settings
    location: dict

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """`make ui` exactly as a user types it, on a free loopback port with its own DAGSTER_HOME and
    the sample files in a temp warehouse; waits until the code location has loaded."""
    root = tmp_path_factory.mktemp("ui")
    settings = make_settings(root)
    copy_sample(settings.raw_dir)
    port = _free_port()
    env = {**command_env(settings, root / "home"), "DAGSTER_PORT": str(port)}
    env.pop("DAGSTER_HOST", None)
    log = root / "ui.log"
    with open(log, "wb") as output:  # a file, not a pipe: an undrained pipe fills and blocks the run
        server = subprocess.Popen(
            ["make", "--no-print-directory", "ui"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=output,
            start_new_session=True,
        )
    try:
        deadline, answer, location = time.time() + 180, None, None
        while time.time() < deadline:
            assert server.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                answer = _graphql(port)
                entries = answer["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    location = entries[0]["locationOrLoadError"]
                    break
            except OSError:
                pass
            time.sleep(1)
        assert location is not None, answer
        yield UiServer(port, settings, location)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_dagster_dev_serves_every_definition_on_loopback(ui_server: UiServer) -> None:
    location = ui_server.location
    assert location["__typename"] == "RepositoryLocation", location
    repo = location["repositories"][0]
    graph = defs.resolve_asset_graph()
    expected_assets = {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable
    }
    served = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
    assert expected_assets <= set(served)
    assert {served[k]["groupName"] for k in expected_assets} == set(GROUPS)
    checks = {
        (key, c["name"], c["blocking"])
        for key, node in served.items()
        if node["assetChecksOrError"]["__typename"] == "AssetChecks"
        for c in node["assetChecksOrError"]["checks"]
    }
    assert len(checks) == len(list(graph.asset_check_keys))
    assert ("marts/headlines", "ge_marts_suite", True) in checks
    assert "newsroom_all" in {j["name"] for j in repo["jobs"]}
    assert {s["name"] for s in repo["schedules"]} == {"daily_refresh"}
    assert {s["name"] for s in repo["sensors"]} == {"raw_files_sensor"}
    # listening on loopback only, never on all interfaces
    assert _listening_addresses(ui_server.port) == {"127.0.0.1"}


def test_ui_in_a_browser_shows_everything_and_materializes_the_graph(ui_server: UiServer) -> None:
    """A person's path through the UI in headless Chromium: the lineage shows every group, each
    asset's Checks tab lists its checks, 'Materialize all' runs the whole graph to success, and the
    run's metadata (coverage chart, check outcomes with the report link) is on screen."""
    graph = defs.resolve_asset_graph()
    checks_by_asset: dict[str, set[str]] = {}
    for check in graph.asset_check_keys:
        checks_by_asset.setdefault("/".join(check.asset_key.path), set()).add(check.name)
    shots = screenshot_dir()
    with browser_page(allowed_prefixes=(ui_server.url,), viewport=(1600, 1000)) as (page, log):
        page.goto(f"{ui_server.url}/asset-groups")
        materialize = page.get_by_role("button", name="Materialize all")
        materialize.wait_for(timeout=60_000)
        for group in GROUPS:  # the group tree and the collapsed lineage graph both name every group
            assert page.get_by_text(group, exact=True).count() >= 2, group

        for asset, names in sorted(checks_by_asset.items()):
            page.goto(f"{ui_server.url}/assets/{asset}?view=checks")
            page.get_by_text(f"Checks ({len(names)})", exact=True).wait_for(timeout=30_000)
            for name in names:  # raises if the check is not on the page within 10 s
                page.get_by_text(name, exact=True).first.wait_for(state="attached", timeout=10_000)

        page.goto(f"{ui_server.url}/asset-groups")
        materialize.click()
        toast = page.get_by_text("Launched run")
        toast.wait_for(timeout=60_000)
        page.get_by_text("View", exact=True).last.click()  # the toast's link to the run
        page.wait_for_url("**/runs/*", timeout=30_000)
        run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        page.get_by_text(f"{len(graph.asset_check_keys)} checks").first.wait_for(timeout=30_000)
        page.get_by_text("Success", exact=True).first.wait_for(timeout=600_000)
        page.screenshot(path=str(shots / "dagster_run_success.png"))

        page.goto(f"{ui_server.url}/assets/marts/topic_counts?view=events")
        page.get_by_text("topic_coverage", exact=True).wait_for(timeout=60_000)
        # markdown renders after the table around it: wait for it rather than count at once
        page.get_by_text("share of distinct stories per topic").first.wait_for(timeout=30_000)
        page.get_by_text("dagster/row_count", exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "dagster_topic_coverage.png"))

        page.goto(f"{ui_server.url}/assets/marts/headlines?view=checks&checkDetail=ge_marts_suite")
        page.get_by_text("report_url", exact=True).wait_for(timeout=60_000)
        report_page = ui_server.settings.report_dir / "runs" / f"{run_id}.html"
        assert report_page.exists()
        page.get_by_text(report_page.resolve().as_uri()).first.wait_for(timeout=30_000)
        page.get_by_text("Passed", exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "dagster_check_ge_marts_suite.png"))

        page.goto(f"{ui_server.url}/asset-groups")
        materialize.wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "dagster_asset_groups.png"))
    assert log.blocked_requests == [], "the UI asked for something outside the server"
    with duckdb.connect(str(ui_server.settings.analytics_path), read_only=True) as con:
        assert con.execute("select count(*) from marts.headlines").fetchall() == [(63,)]
