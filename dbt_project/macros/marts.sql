{#- Post-hook of marts.headlines: the columns matching decides across files (normalised text, duplicate
    group, story) follow intermediate.headline_matches, which the text analysis rewrites every run.
    Only rows whose values differ are updated: after one new file, the headlines whose group it
    changed. -#}
{% macro refresh_matches() -%}
    {{ return(adapter.dispatch('refresh_matches', 'newsroom')()) }}
{%- endmacro %}
{% macro default__refresh_matches() -%}
    update {{ this }} as headlines
    set
        normalized_text = matches.normalized_text,
        duplicate_group_id = matches.duplicate_group_id,
        story_id = matches.story_id
    from {{ source('analysis', 'headline_matches') }} as matches
    where headlines.file_id = matches.file_id
        and headlines.line_no = matches.line_no
        and (
            headlines.normalized_text is distinct from matches.normalized_text
            or headlines.duplicate_group_id is distinct from matches.duplicate_group_id
            or headlines.story_id is distinct from matches.story_id
        )
{%- endmacro %}
{#- On Spark marts.headlines is rebuilt whole from headline_matches each run (macros/per_file.sql):
    nothing to refresh. -#}
{% macro spark__refresh_matches() -%}
{%- endmacro %}

{#- marts.headline_pairs follows intermediate.headline_pairs. On DuckDB it is kept, not rebuilt: a run
    appends the pairs it does not hold yet and deletes those the matcher no longer has (a new
    identical headline takes the place of a pair in a chain; a full match rescores every pair), so
    after one new file it writes only that file's pairs. Spark rebuilds it whole. -#}
{% macro pairs_config() -%}
    {{ return(adapter.dispatch('pairs_config', 'newsroom')()) }}
{%- endmacro %}
{% macro default__pairs_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        post_hook=['{{ newsroom.delete_unmatched_pairs() }}'],
    ) }}
{%- endmacro %}
{% macro spark__pairs_config() -%}
    {{ config(materialized='table', file_format='parquet') }}
{%- endmacro %}

{#- Where a pair of `built` is the same as one of `pairs`: every column the matcher writes. -#}
{% macro same_pair(built, pairs) -%}
    {{ built }}.headline_id_a = {{ pairs }}.headline_id_a
    and {{ built }}.headline_id_b = {{ pairs }}.headline_id_b
    and {{ built }}.relation = {{ pairs }}.relation
    and {{ built }}.score = {{ pairs }}.score
    and {{ built }}.rule = {{ pairs }}.rule
{%- endmacro %}

{% macro delete_unmatched_pairs() -%}
    delete from {{ this }} as built
    where not exists (
        select 1 from {{ source('analysis', 'headline_pairs') }} as pairs
        where {{ newsroom.same_pair('built', 'pairs') }}
    )
{%- endmacro %}
