"""Jobs. One job materializes the whole graph, gates included. The landing-day job belongs to the
scale-out code location (orchestration/workers.py), not to the main one."""

import dagster as dg

from assets.landing import landing_days, landing_parquet

#: The run tag the cluster's run queue limits to one run at a time (docs/deploy/values.yaml).
WRITER_TAG = "newsroom/writer"

newsroom_all = dg.define_asset_job(
    name="newsroom_all",
    selection=dg.AssetSelection.all(),
    description="Load new raw files, build staging, intermediate and marts, run every quality gate, render the report.",
    # On a cluster, runs are pods: the run queue lets one run with this tag write the DuckDB file at
    # a time (docs/deploy.md); on one machine the writer pool does the same for steps.
    tags={WRITER_TAG: "duckdb"},
)

landing_parquet_by_day = dg.define_asset_job(
    name="landing_parquet_by_day",
    selection=dg.AssetSelection.assets(landing_parquet),
    partitions_def=landing_days,
    description="Decode one landing day's files to Parquet (no DuckDB write): a backfill of many days "
    "is one run per day, spread over processes or pods by the run launcher.",
)
