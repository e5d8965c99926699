"""`make docs`: dbt's documentation site (models, columns, lineage) for the working warehouse.

Writes `data/dbt_docs/static_index.html`, one file with the manifest and catalog inside, that opens
from disk with no server. dbt reads the warehouse for the catalog (column types), so run it when no
pipeline run holds the file.

    python -m orchestration.docs [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

from orchestration.dbt_runner import run_dbt
from orchestration.project import dbt_project
from orchestration.settings import PROJECT_ROOT, Settings

DEFAULT_OUT = PROJECT_ROOT / "data" / "dbt_docs"


def generate_docs(warehouse: Path, out_dir: Path) -> Path:
    """`dbt docs generate --static` in-process against `warehouse`; returns the static page."""
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse} does not exist yet: `make run` builds it")
    run = run_dbt(["docs", "generate", "--static"], dbt_project(), warehouse, out_dir)
    page = out_dir / "static_index.html"
    if not run.success or not page.exists():
        raise RuntimeError(f"dbt docs generate failed: {run.error}")
    return page


def undocumented(out_dir: Path) -> list[str]:
    """Models, and columns the warehouse really has, that carry no description in the YAML."""
    manifest = json.loads((out_dir / "manifest.json").read_text())
    catalog = json.loads((out_dir / "catalog.json").read_text())
    missing = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed"):
            continue
        if not node.get("description", "").strip():
            missing.append(unique_id)
        documented = {
            name.lower() for name, col in node["columns"].items() if col.get("description", "").strip()
        }
        real = catalog["nodes"].get(unique_id, {}).get("columns", {})
        missing += [f"{unique_id}.{name}" for name in real if name.lower() not in documented]
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.docs", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    try:
        page = generate_docs(Settings.from_env().warehouse, args.out)
    except (FileNotFoundError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    missing = undocumented(args.out)
    print(f"dbt docs: {page}  (open it in a browser; no server needed)")
    if missing:
        print("undocumented: " + ", ".join(missing), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
