"""A small DuckDB SQL shell on the analyst copy, read-only by default (`make sql`).

The DuckDB CLI on PyPI (duckdb-cli 1.5) cannot open files written by duckdb 2.0 (storage version
69), so this uses the duckdb Python package the pipeline itself runs on.

    python -m orchestration.sql [DATABASE] [-c "select ..."] [-f docs/queries.sql] [--working] [--write]

Without DATABASE it opens the analyst copy ($NEWSROOM_ANALYTICS, default data/analytics.duckdb),
which the pipeline replaces atomically and never locks; --working opens the pipeline's own
warehouse instead (fails while a run holds it).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import duckdb

from orchestration.settings import Settings


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    relation = con.sql(sql)
    if relation is not None:
        out.write(str(relation) + "\n")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    sql: str
    may_be_empty: bool


def parse_named_queries(text: str) -> list[NamedQuery]:
    """Split a file of `-- name: ...` blocks (docs/queries.sql) into its queries."""
    blocks = re.split(r"^-- name:\s*", text, flags=re.MULTILINE)[1:]
    queries = []
    for block in blocks:
        name, _, body = block.partition("\n")
        sql = body.strip().rstrip(";").strip()
        code = [line for line in sql.splitlines() if line.strip() and not line.strip().startswith("--")]
        if not code:
            raise ValueError(f"query {name!r} has no SQL")
        queries.append(NamedQuery(name.strip(), sql, "-- may be empty" in body))
    return queries


def run_file(con: duckdb.DuckDBPyConnection, path: Path, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for query in parse_named_queries(path.read_text(encoding="utf-8")):
        out.write(f"\n-- {query.name}\n")
        run_sql(con, query.sql, out)


def _interactive(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history when available)
    print("newsroom SQL (DuckDB). End statements with ';'. Ctrl-D to quit. Try: show all tables;")
    buffer: list[str] = []
    while True:
        try:
            line = input("sql> " if not buffer else "...> ")
        except EOFError:
            print()
            return
        buffer.append(line)
        statement = "\n".join(buffer).strip()
        if statement.endswith(";"):
            buffer = []
            try:
                run_sql(con, statement)
            except duckdb.Error as exc:
                print(f"error: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.sql", description=__doc__.split("\n")[0])
    parser.add_argument("database", nargs="?", help="DuckDB file (default: the analyst copy)")
    parser.add_argument("--working", action="store_true", help="open the working warehouse instead")
    parser.add_argument("-c", "--command", help="run this SQL and exit")
    parser.add_argument("-f", "--file", type=Path, help="run every `-- name:` query of this file and exit")
    parser.add_argument("--write", action="store_true", help="open read-write (default read-only)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    database = args.database or str(settings.warehouse if args.working else settings.analytics_path)
    try:
        con = duckdb.connect(database, read_only=not args.write)
    except duckdb.Error as exc:
        print(f"cannot open {database}: {exc}", file=sys.stderr)
        return 2
    with con:
        if args.command or args.file:
            try:
                run_sql(con, args.command) if args.command else run_file(con, args.file)
            except duckdb.Error as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        elif sys.stdin.isatty():
            _interactive(con)
        else:
            run_sql(con, sys.stdin.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
