"""The dbt text that decides each kept layer's rows, and its digest.

A per-file layer keeps its rows between runs and is rebuilt from scratch only when the rules that made
them change (orchestration/dbt_assets.py). The rules are the layer's models (and the models it builds
on), the seeds, `dbt_project.yml`, and the macros those call: not every macro file. A change to a
marts-only macro must not rebuild a gigabyte of staging and intermediate lines (about 10 min).

Which macros a text calls is read from the text itself, not from dbt's manifest: the manifest is a
snapshot of the last parse and misses calls dbt renders late (a post-hook written as a string inside
a macro). A macro counts as called when its name appears as a word in a model, in `dbt_project.yml`
or in a called macro (Jinja comments aside); a dispatched macro brings its adapters' implementations
(`default__x`, `spark__x`). Macros dbt calls on its own (`generate_schema_name`, overrides of dbt's
dispatched macros such as `spark__load_csv_rows`) count for every layer. Mentions in SQL comments
count too: a digest that changes too often costs a rebuild, one that misses a rule keeps wrong rows.
"""

import hashlib
import re
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR

#: Per kept layer, the project files (globs under dbt_project/) whose text decides its rows.
LAYER_FILES = {
    "staging": ("dbt_project.yml", "seeds/*.csv", "models/staging/*.sql"),
    "intermediate": ("dbt_project.yml", "seeds/*.csv", "models/staging/*.sql", "models/intermediate/*.sql"),
    "marts": ("dbt_project.yml", "seeds/*.csv", "models/*/*.sql"),
}  # fmt: skip

MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(.*?\{%-?\s*endmacro\s*-?%\}", re.DOTALL)
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
#: Macros dbt itself calls by name, whoever defines them.
CALLED_BY_DBT = ("generate_schema_name", "generate_alias_name", "generate_database_name")


def project_macros(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """Every macro under `macros/`: name -> its whole `{% macro %}…{% endmacro %}` text."""
    macros: dict[str, str] = {}
    for path in sorted((project_dir / "macros").glob("**/*.sql")):
        for match in MACRO.finditer(path.read_text(encoding="utf-8")):
            macros[match.group(1)] = match.group(0)
    return macros


def _uses(text: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", text) is not None


def macros_called(texts: list[str], macros: dict[str, str]) -> set[str]:
    """The macros `texts` call, directly or through other macros, with the adapter implementations
    of the dispatched ones and the macros dbt calls on its own."""
    dispatched = {name: name.split("__", 1)[1] for name in macros if "__" in name}
    called = {
        name
        for name in macros
        if name in CALLED_BY_DBT or (name in dispatched and dispatched[name] not in macros)
    }
    todo = [*texts, *(macros[name] for name in called)]  # comments are dropped as each is read
    while todo:
        text = JINJA_COMMENT.sub("", todo.pop())
        for name, body in macros.items():
            if name not in called and (
                _uses(text, name) or (name in dispatched and _uses(text, dispatched[name]))
            ):
                called.add(name)
                todo.append(body)
    return called


def layer_texts(layer: str, project_dir: Path = DBT_PROJECT_DIR) -> list[tuple[str, str]]:
    """(path, text) of the layer's project files (LAYER_FILES), each glob's files sorted."""
    return [
        (str(path.relative_to(project_dir)), path.read_text(encoding="utf-8"))
        for pattern in LAYER_FILES[layer]
        for path in sorted(project_dir.glob(pattern))
    ]


def sql_digest(layer: str, project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Digest of what decides a kept layer's rows: its files and the macros they call. Not cached: under
    `dagster dev` the SQL changes while the process lives (a few milliseconds a run)."""
    files = layer_texts(layer, project_dir)
    macros = project_macros(project_dir)
    digest = hashlib.sha256()
    for path, text in files:
        digest.update(f"{path}\0{text}\0".encode())
    for name in sorted(macros_called([text for _, text in files], macros)):
        digest.update(f"{name}\0{macros[name]}\0".encode())
    return digest.hexdigest()[:16]
