{#- Per-file incremental models. Every intermediate model works file by file (its windows and joins
    never cross files), so a run builds only the files it has not built yet and keeps the rest:
    with one new file in a gigabyte of news, the layer reads that file's rows, not all of them.
    A file that is no longer current (superseded by a changed version, or gone) is deleted after the
    build. A change to the layer's SQL or seeds rebuilds everything: the Dagster step compares their
    digest with the last build's and passes --full-refresh (orchestration/dbt_assets.py). -#}

{#- The config of a per-file model: delete+insert keyed on file_id on DuckDB, merge elsewhere. -#}
{% macro per_file_config() -%}
    {{ return(adapter.dispatch('per_file_config', 'newsroom')()) }}
{%- endmacro %}
{% macro default__per_file_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='file_id',
        on_schema_change='fail',
        post_hook='{{ newsroom.delete_stale_files() }}',
    ) }}
{%- endmacro %}

{#- In the model's first CTE: only rows of files this model has not built yet. -#}
{% macro only_new_files(file_id='file_id') -%}
    {%- if is_incremental() -%}
        where {{ file_id }} not in (select file_id from {{ this }})
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: rows of files that are no longer current go. -#}
{% macro delete_stale_files() -%}
    delete from {{ this }} where file_id not in (
        select file_id from {{ source('raw', 'files') }} where status = 'loaded' and superseded_at is null
    )
{%- endmacro %}
