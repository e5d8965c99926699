"""The per-file text analysis (language, topics, matching features) as one function over Arrow
tables, so that the same code runs wherever the texts are: through DuckDB on one machine, through
Spark's `groupBy("file_id").applyInArrow` on a cluster (orchestration/spark_target.py).

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

from assets.file_analysis import analyse_file, file_texts
from assets.matching import FEATURES_SCHEMA

TEXTS_SCHEMA = pa.schema(
    [
        ("file_id", pa.string()),
        ("line_no", pa.int32()),
        ("role", pa.string()),
        ("text", pa.string()),
        ("word_count", pa.int32()),
        ("article_id", pa.string()),
        ("body", pa.string()),
        ("file_path", pa.string()),
        ("loaded_day", pa.int32()),
    ]
)

#: The columns of each analysis table (the DDL of assets/analysis.py), in order.
OUTPUTS: dict[str, dict[str, pl.DataType]] = {
    "line_language": {"file_id": pl.String, "line_no": pl.Int32, "language": pl.String,
                      "language_confidence": pl.Float64, "language_method": pl.String},
    "headline_topics": {"file_id": pl.String, "line_no": pl.Int32, "topic": pl.String,
                        "topic_score": pl.Float64, "topics": pl.List(pl.String),
                        "topic_terms": pl.List(pl.String)},
    "article_topics": {"article_id": pl.String, "file_id": pl.String, "language": pl.String,
                       "language_confidence": pl.Float64, "language_method": pl.String,
                       "topic": pl.String, "topic_score": pl.Float64, "topics": pl.List(pl.String),
                       "topic_terms": pl.List(pl.String)},
    "headline_features": FEATURES_SCHEMA,
}  # fmt: skip
_COLUMNS: dict[str, pl.DataType] = {"output": pl.String}
for _schema in OUTPUTS.values():
    _COLUMNS |= _schema


def _plain(dtype: pa.DataType) -> pa.DataType:
    """Arrow's 32-bit-offset string and list: what Spark's Arrow exchange expects (polars makes the
    64-bit `large_` kinds)."""
    if pa.types.is_large_list(dtype) or pa.types.is_list(dtype):
        return pa.list_(pa.field("element", _plain(dtype.value_type)))
    return pa.string() if pa.types.is_large_string(dtype) else dtype


RESULTS_SCHEMA: pa.Schema = pa.schema(
    [pa.field(f.name, _plain(f.type)) for f in pl.DataFrame(schema=_COLUMNS).to_arrow().schema]
)


def analyse_texts(texts: pa.Table) -> pa.Table:
    """Every analysis result of the files in `texts`, as one RESULTS_SCHEMA table."""
    parts = [pl.DataFrame(schema=_COLUMNS)]
    for text in file_texts(texts):
        for output, frame in analyse_file(text).items():
            parts.append(frame.with_columns(output=pl.lit(output)))
    return pl.concat(parts, how="diagonal_relaxed").select(list(_COLUMNS)).to_arrow().cast(RESULTS_SCHEMA)


def split_results(results: pa.Table) -> dict[str, pl.DataFrame]:
    """The analysis tables in a RESULTS_SCHEMA table, each with its own columns."""
    frame = pl.from_arrow(results)
    return {
        output: frame.filter(pl.col("output") == output).select(list(schema)).cast(schema)
        for output, schema in OUTPUTS.items()
    }


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
                "select * from intermediate.int_analysis_texts where file_id in (select unnest(?::varchar[]))",
                [batch],
            ).to_arrow_table()
        )
