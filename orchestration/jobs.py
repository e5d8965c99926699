"""Jobs. One job materializes the whole graph, gates included."""

import dagster as dg

newsroom_all = dg.define_asset_job(
    name="newsroom_all",
    selection=dg.AssetSelection.all(),
    description="Load new raw files, build staging, intermediate and marts, run every quality gate, render the report.",
)
