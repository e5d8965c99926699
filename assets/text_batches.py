"""The per-file text analysis (language, topics, matching features) as one function over Arrow
tables, so that the same code runs wherever the texts are: through DuckDB on one machine, through
Spark's `groupBy("file_id").applyInArrow` on a cluster (orchestration/spark_target.py).

Matching (duplicate groups and stories) compares headlines across files: `match_features` runs the
pipeline's matching SQL over any set of headline features, on Spark in one task over all of them.

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


class Tagged:
    """Several tables in one long Arrow table, each row tagged with the table it belongs to
    (`output`), the other tables' columns null: a Spark UDF returns one schema only."""

    def __init__(self, outputs: dict[str, dict[str, pl.DataType]]) -> None:
        self.outputs = outputs
        self.columns: dict[str, pl.DataType] = {"output": pl.String}
        for schema in outputs.values():
            self.columns |= schema
        self.schema = pa.schema(
            [pa.field(f.name, _plain(f.type)) for f in pl.DataFrame(schema=self.columns).to_arrow().schema]
        )

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
RESULTS, MATCHES = Tagged(OUTPUTS), Tagged(MATCH_OUTPUTS)
RESULTS_SCHEMA, MATCH_SCHEMA = RESULTS.schema, MATCHES.schema
split_results, split_matches = RESULTS.split, MATCHES.split


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


def match_features(features: pa.Table) -> pa.Table:
    """Duplicate groups, stories and linked pairs over every headline in `features` (rows of
    headline_features), with the pipeline's own matching SQL (assets/matching.py) in an in-memory
    DuckDB: what the asset runs over the warehouse, and what Spark runs in one task over all
    features. Returns a MATCH_SCHEMA table."""
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
    return MATCHES.join(
        [("headline_matches", pl.from_arrow(matches)), ("headline_pairs", pl.from_arrow(pairs))]
    )


def match_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """`match_features` over every batch of the partition at once (Spark's mapInArrow after
    coalesce(1): matching must see all headlines)."""
    collected = list(batches)
    if collected:
        yield from match_features(pa.Table.from_batches(collected)).to_batches()
