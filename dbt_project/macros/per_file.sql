{#- Per-file incremental models. Every intermediate model works file by file (its windows and joins
    never cross files), so a run builds only the files it has not built yet and keeps the rest:
    with one new file in a gigabyte of news, the layer reads that file's rows, not all of them.
    A file that is no longer current (superseded by a changed version, or gone) is deleted after the
    build. A change to the layer's SQL or seeds rebuilds everything: the Dagster step compares their
    digest with the last build's and passes --full-refresh (orchestration/dbt_assets.py). -#}

{#- The config of a per-file model: delete+insert keyed on file_id on DuckDB.
    `post_hooks`: the model's own hooks, run after stale files are deleted. -#}
{% macro per_file_config(post_hooks=[]) -%}
    {{ return(adapter.dispatch('per_file_config', 'newsroom')(post_hooks)) }}
{%- endmacro %}
{% macro default__per_file_config(post_hooks=[]) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='file_id',
        on_schema_change='fail',
        tags=['per_file'],
        post_hook=['{{ newsroom.delete_stale_files() }}'] + post_hooks,
    ) }}
{%- endmacro %}
{#- Spark rebuilds a per-file model whole, as a Parquet table. Offline, its per-key strategies need
    Delta or Iceberg jars pip does not ship (merge), and a delete of a Parquet table's rows is not
    possible; insert_overwrite partitioned by file_id would make one partition per news file, the
    small-files problem Spark is worst at. On a cluster with Delta, `merge` on file_id is the twin of
    DuckDB's delete+insert (docs/deploy.md). -#}
{% macro spark__per_file_config(post_hooks=[]) -%}
    {{ config(materialized='table', file_format='parquet', post_hook=post_hooks) }}
{%- endmacro %}

{#- In the model's first CTE: only rows of files this model has not built yet, taken from `files`
    (a relation or subquery with a file_id column: the files the model could build), and at most
    var('files_per_build') of them in file_id order (incremental models only: a table, as on Spark,
    is always built whole). The limit bounds the memory of a build: the
    window functions of a whole gigabyte of lines ran out of a 2 GB cap; the Dagster step runs the
    layer again until every file is built. `keyword`: 'and' after the CTE's own where clause.

    Costs at 1 GB (12 M lines, one new file): `files` must not be a CTE the model reads again, or DuckDB
    materialises it with every column (2.4 s of article lines and their text, against 0.1 s read
    twice); and the built files are taken distinct before `not in`, whose null-aware join otherwise
    hashes every row of the model (1.4 s against 0.1 s). A CTE that reads another per-file table
    for the same files calls this macro again with the same `files` rather than filtering on
    `file_id in (select file_id from roles)`: DuckDB guesses that CTE at a tenth of its table, so it
    hashes every row of the other table (every article body, 1 GB of text) to probe it with the new
    lines: articles took 0.7 s with one new file, 0.05 s now. -#}
{% macro only_new_files(files, keyword='where') -%}
    {%- set limit = var('files_per_build', none) if config.get('materialized') == 'incremental' else none -%}
    {%- if is_incremental() or limit -%}
        {{ keyword }} file_id in (
            select file_id from (select distinct file_id from {{ files }}) as candidates
            {%- if is_incremental() %}
            where file_id not in (select distinct file_id from {{ this }})
            {%- endif %}
            order by file_id
            {%- if limit %} limit {{ limit }}{% endif %}
        )
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: rows of files that are no longer current go. raw.files keeps a row for every file
    ever read (a changed or removed version is marked superseded, never deleted), so these are the
    rows of its files that are not loaded and current. Asked that way DuckDB probes the model's
    file ids against the few superseded files and skips the row groups outside them: 0.004 s at 1 GB
    (12 M lines), against 0.14-0.21 s per model for `not in` the 12,000 current files, which hashes
    every row; nine models run it on every build. -#}
{% macro delete_stale_files() -%}
    delete from {{ this }} where file_id in (
        select file_id from {{ source('raw', 'files') }} where status <> 'loaded' or superseded_at is not null
    )
{%- endmacro %}
