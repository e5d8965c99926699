"""Jobs. One job materializes the whole graph, gates included; one writes landing days to Parquet."""

import dagster as dg

from assets.landing import landing_days, landing_parquet

newsroom_all = dg.define_asset_job(
    name="newsroom_all",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(landing_parquet),
    description="Load new raw files, build staging, intermediate and marts, run every quality gate, render the report.",
)

landing_parquet_by_day = dg.define_asset_job(
    name="landing_parquet_by_day",
    selection=dg.AssetSelection.assets(landing_parquet),
    partitions_def=landing_days,
    description="Decode one landing day's files to Parquet (no DuckDB write): a backfill of many days "
    "is one run per day, spread over processes or pods by the run launcher.",
)
