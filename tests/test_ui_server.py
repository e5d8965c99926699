"""`make ui` as a user starts it: `dagster dev` on 127.0.0.1 with a project DAGSTER_HOME, asked over
its GraphQL API (what the UI itself reads) whether every asset, check, job, schedule and sensor loaded."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from orchestration.definitions import defs
from orchestration.settings import PROJECT_ROOT
from tests.conftest import make_settings

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


def test_dagster_dev_serves_every_definition_on_loopback(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "orchestration/instance/dagster.yaml").read_text())
    port = _free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NEWSROOM_RAW_DIR": str(settings.raw_dir),
        "NEWSROOM_WAREHOUSE": str(settings.warehouse),
        "NEWSROOM_REPORT_DIR": str(settings.report_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    env["DAGSTER_PORT"] = str(port)
    env.pop("DAGSTER_HOST", None)
    server = subprocess.Popen(  # exactly what a user types
        ["make", "--no-print-directory", "ui"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline, answer, location = time.time() + 180, None, None
        while time.time() < deadline:
            assert server.poll() is None, server.stderr.read().decode()[-3000:]
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
        assert location["__typename"] == "RepositoryLocation", location
        repo = location["repositories"][0]
        graph = defs.resolve_asset_graph()
        expected_assets = {
            k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable
        }
        served = {"/".join(n["assetKey"]["path"]): n for n in repo["assetNodes"]}
        assert expected_assets <= set(served)
        assert {served[k]["groupName"] for k in expected_assets} == {
            "raw",
            "staging",
            "intermediate",
            "marts",
            "quality",
        }
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
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
