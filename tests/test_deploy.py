"""The Kubernetes deployment (docs/deploy.md): the Helm values validate, name only things the code has,
and render with `helm template` where helm is installed."""

from __future__ import annotations

import copy
import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import jsonschema
import pytest
import yaml

from orchestration.jobs import WRITER_TAG, newsroom_all
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "docs" / "deploy"
VALUES = yaml.safe_load((DEPLOY / "values.yaml").read_text())
SCHEMA = json.loads((DEPLOY / "values.schema.json").read_text())


def _errors(values: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(values)]


def test_the_helm_values_validate() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert _errors(VALUES) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v["runLauncher"].update(typo=v["runLauncher"].pop("type")),
        lambda v: v["runLauncher"].update(type="K8sRunLaunch"),
        lambda v: v["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"].update(
            maxConcurrentRuns="8"
        ),
        lambda v: v["telemetry"].update(enabled=True),
        lambda v: v["dagster-user-deployments"]["deployments"][0]["env"].append(
            {"name": "x y", "value": "1"}
        ),
    ],
    ids=["misspelt key", "unknown launcher", "count as text", "telemetry on", "bad env name"],
)
def test_a_broken_values_file_fails(change) -> None:
    values = copy.deepcopy(VALUES)
    change(values)
    assert _errors(values)


def test_the_values_name_only_what_the_code_has() -> None:
    """The code location module loads to Definitions; each NEWSROOM_* variable set is read by the
    code; the writer tag limited is on the job that writes."""
    [deployment] = VALUES["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = importlib.import_module(args[args.index("-m") + 1])
    assert isinstance(module.defs, dg.Definitions)
    env = {item["name"]: item["value"] for item in deployment["env"]}
    profiles = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    read_by_code = set(Settings.from_env().to_env()) | set(re.findall(r"env_var\('(NEWSROOM_\w+)'", profiles))
    assert {name for name in env if name.startswith("NEWSROOM_")} <= read_by_code
    [limit] = VALUES["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"][
        "tagConcurrencyLimits"
    ]
    assert (limit["key"], limit["value"], limit["limit"]) == (WRITER_TAG, newsroom_all.tags[WRITER_TAG], 1)


def test_the_chart_renders_where_helm_is_installed(tmp_path: Path) -> None:
    helm = shutil.which("helm")
    if helm is None:
        pytest.skip(
            "helm is not installed here (and not in Debian's packages); the schema check above stands in"
        )
    rendered = subprocess.run(
        [
            helm,
            "template",
            "newsroom",
            "dagster/dagster",
            "--version",
            "1.13.27",
            "-f",
            str(DEPLOY / "values.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "K8sRunLauncher" in rendered.stdout
