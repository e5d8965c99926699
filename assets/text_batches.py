"""The per-file text analysis (language, topics, matching features) as one function over Arrow
tables, so that the same code runs wherever the texts are: through DuckDB on one machine, through
Spark's `groupBy("file_id").applyInArrow` on a cluster (orchestration/spark_target.py).

Matching (duplicate groups and stories) compares headlines across files: `match_features` runs the
pipeline's matching SQL over any set of headline features; on Spark, `match_block` finds the pairs of
one block of days per task and `group_batches` joins the pairs of all blocks into groups.

Input: rows of intermediate.int_analysis_texts holding whole files (the file's own language breaks
ties between lines, so a file is never split). Output: one long table of every result, tagged with
the analysis table it belongs to (`output`); `split_results` turns it back into those tables. Both
paths call `analyse_file`, the function the Dagster asset runs (assets/file_analysis.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from assets import matching
from assets.file_analysis import SCHEMAS, analyse_file, file_texts


def _plain(dtype: pa.DataType) -> pa.DataType:
    """Arrow's 32-bit-offset string and list: what Spark's Arrow exchange expects (polars makes the
    64-bit `large_` kinds)."""
    if pa.types.is_large_list(dtype) or pa.types.is_list(dtype):
        return pa.list_(pa.field("element", _plain(dtype.value_type)))
    return pa.string() if pa.types.is_large_string(dtype) else dtype


def arrow_schema(columns: dict[str, pl.DataType]) -> pa.Schema:
    """Polars column types as the Arrow schema Spark exchanges."""
    return pa.schema(
        [pa.field(f.name, _plain(f.type)) for f in pl.DataFrame(schema=columns).to_arrow().schema]
    )


class Tagged:
    """Several tables in one long Arrow table, each row tagged with the table it belongs to
    (`output`), the other tables' columns null: a Spark UDF returns one schema only."""

    def __init__(self, outputs: dict[str, dict[str, pl.DataType]]) -> None:
        self.outputs = outputs
        self.columns: dict[str, pl.DataType] = {"output": pl.String}
        for schema in outputs.values():
            self.columns |= schema
        self.schema = arrow_schema(self.columns)

    def join(self, frames: list[tuple[str, pl.DataFrame]]) -> pa.Table:
        """One tagged table of (output, frame) pairs."""
        tagged = [frame.with_columns(output=pl.lit(output)) for output, frame in frames]
        joined = pl.concat([pl.DataFrame(schema=self.columns), *tagged], how="diagonal_relaxed")
        return joined.select(list(self.columns)).to_arrow().cast(self.schema)

    def split(self, table: pa.Table) -> dict[str, pl.DataFrame]:
        """Each output's rows of a tagged table, with its own columns."""
        frame = pl.from_arrow(table)
        return {
            output: frame.filter(pl.col("output") == output).select(list(schema)).cast(schema)
            for output, schema in self.outputs.items()
        }


#: The analysis tables (what `analyse_file` returns), and what matching writes (assets/analysis.py's DDL).
OUTPUTS = SCHEMAS
MATCH_OUTPUTS: dict[str, dict[str, pl.DataType]] = {
    "headline_matches": {"headline_id": pl.String, "file_id": pl.String, "line_no": pl.Int32,
                         "normalized_text": pl.String, "duplicate_group_id": pl.String, "story_id": pl.String},
    "headline_pairs": {"headline_id_a": pl.String, "headline_id_b": pl.String, "relation": pl.String,
                       "score": pl.Float64, "rule": pl.String},
}  # fmt: skip
RESULTS = Tagged(OUTPUTS)
RESULTS_SCHEMA, split_results = RESULTS.schema, RESULTS.split
PAIRS_SCHEMA = arrow_schema(MATCH_OUTPUTS["headline_pairs"])
GROUPS_SCHEMA = pa.schema([(name, pa.string()) for name in ("headline_id", "duplicate_group_id", "story_id")])


def analyse_texts(texts: pa.Table) -> pa.Table:
    """Every analysis result of the files in `texts`, as one RESULTS_SCHEMA table."""
    return RESULTS.join([item for text in file_texts(texts) for item in analyse_file(text).items()])


def analyse_in_duckdb(con: duckdb.DuckDBPyConnection, files_per_batch: int = 64) -> Iterator[pa.Table]:
    """`analyse_texts` over intermediate.int_analysis_texts, a few whole files per Arrow batch."""
    file_ids = [
        r[0]
        for r in con.execute(
            "select distinct file_id from intermediate.int_analysis_texts order by 1"
        ).fetchall()
    ]
    for start in range(0, len(file_ids), files_per_batch):
        batch = file_ids[start : start + files_per_batch]
        yield analyse_texts(
            con.execute(
                "select * from intermediate.int_analysis_texts where list_contains(?::varchar[], file_id)",
                [batch],
            ).to_arrow_table()
        )


def match_features(features: pa.Table) -> dict[str, pl.DataFrame]:
    """headline_matches and headline_pairs over every headline in `features` (rows of
    headline_features), with the pipeline's own matching SQL (assets/matching.py) in an in-memory
    DuckDB, all at once: what the block-by-block Spark matching is held to."""
    con = duckdb.connect()
    try:
        con.register("features", features)
        matching.match(con, "features", "pairs", "groups")
        matches = con.execute(
            """
            select f.headline_id, f.file_id, f.line_no, f.normalized_text, g.duplicate_group_id, g.story_id
            from features f join groups g using (headline_id)
            """
        ).to_arrow_table()
        pairs = con.execute("select * from pairs").to_arrow_table()
    finally:
        con.close()
    tables = {"headline_matches": matches, "headline_pairs": pairs}
    return {name: pl.from_arrow(table).cast(MATCH_OUTPUTS[name]) for name, table in tables.items()}


def blocks_of(day: int, days_per_block: int, window: int) -> list[int]:
    """The blocks a headline of `day` goes to: its own, and the one before when it is within `window`
    days of its block's start (that block's pairs may reach it)."""
    return sorted({day // days_per_block, (day - window) // days_per_block})


def match_block(features: pa.Table, stats: pa.Table, headlines: int, days_per_block: int) -> pa.Table:
    """The linked pairs (headline_pairs rows) of one block of days: `features` holds the block's
    headlines and those up to the date window past its end, `stats` the whole set's word counts for
    their words (token, day, df, window_df), `headlines` the whole set's size. What Spark's cogrouped
    applyInArrow runs per block; the pairs of all blocks are those of `match_features` over all."""
    if features.num_rows == 0:
        return pa.Table.from_pylist([], schema=PAIRS_SCHEMA)
    block = features.column("block")[0].as_py()
    con = duckdb.connect()
    try:
        con.register("features", features)
        con.register("stats", stats)
        first = block * days_per_block
        matching.match(
            con, "features", "pairs", None, matching.Block("stats", headlines, first, first + days_per_block)
        )
        return con.execute("select * from pairs").to_arrow_table().cast(PAIRS_SCHEMA)
    finally:
        con.close()


def group_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Duplicate groups and stories of every linked headline, from the pairs of all blocks (Spark's
    mapInArrow after coalesce(1): connected components need the whole graph, but only its edges)."""
    con = duckdb.connect()
    try:
        con.register("pairs", pa.Table.from_batches(list(batches), schema=PAIRS_SCHEMA))
        matching.group_pairs(con, "pairs", "groups")
        groups = con.execute("select headline_id, duplicate_group_id, story_id from groups").to_arrow_table()
    finally:
        con.close()
    yield from groups.cast(GROUPS_SCHEMA).to_batches()
