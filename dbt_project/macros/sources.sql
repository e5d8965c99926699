{#- on-run-start: make every source readable on the target. On DuckDB the sources are the warehouse's
    own tables (the Dagster assets write them), so there is nothing to do. On Spark each source is a
    view over its Parquet copy under var('parquet_root') (assets/parquet_store.py lays them out as
    <root>/<schema>/<table>/): a view over the path, not a table, so that new partitions (files) are
    seen by the next query with no repair step. Only the sources the selected nodes read are
    registered: the text analysis' Parquet does not exist yet when a first run builds staging. -#}
{% macro register_sources() -%}
    {{ return(adapter.dispatch('register_sources', 'newsroom')()) }}
{%- endmacro %}
{% macro default__register_sources() -%}
{%- endmacro %}
{% macro spark__register_sources() -%}
    {%- if execute -%}
        {%- set root = var('parquet_root', env_var('NEWSROOM_PARQUET', '')) | trim -%}
        {%- if not root -%}
            {{ exceptions.raise_compiler_error("The spark target reads its sources from Parquet: set NEWSROOM_PARQUET (or var parquet_root) to the folder assets/parquet_store.py writes") }}
        {%- endif -%}
        {%- set needed = [] -%}
        {%- for unique_id in selected_resources -%}
            {%- set node = graph.nodes.get(unique_id) -%}
            {%- for parent in (node.depends_on.nodes if node else []) -%}
                {%- if parent.startswith('source.') and parent not in needed -%}{%- do needed.append(parent) -%}{%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') if source.unique_id in needed -%}
            {%- do run_query('create database if not exists ' ~ source.schema) -%}
            {%- do run_query('create or replace view ' ~ source.schema ~ '.' ~ source.name
                ~ ' as select * from parquet.`' ~ root ~ '/' ~ source.schema ~ '/' ~ source.name ~ '`') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
