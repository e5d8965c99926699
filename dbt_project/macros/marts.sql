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
        story_id = matches.story_id,
        matched_at = {{ newsroom.match_time() }}
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

{#- The aggregate marts (stories, topic_counts, file_quality) on DuckDB: kept, not rebuilt. Each row
    carries `matched_at`, the match it reflects (intermediate.matching_state, written by the text
    analysis); marts.headlines stamps the same on every row whose groups it writes. A build redoes
    only the keys (stories, days, files) that headlines matched since the table's last build touch,
    with delete+insert on `unique_key`, then `post_hook` deletes the keys that are gone. That is
    exact while matching only adds headlines and merges groups, which is all an incremental match
    does; after a full match (groups can split) the whole table is redone (aggregates_in_full).
    Spark rebuilds them whole. -#}
{% macro aggregate_config(unique_key, post_hook) -%}
    {{ return(adapter.dispatch('aggregate_config', 'newsroom')(unique_key, post_hook)) }}
{%- endmacro %}
{% macro default__aggregate_config(unique_key, post_hook) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=unique_key,
        on_schema_change='fail',
        post_hook=[post_hook],
    ) }}
{%- endmacro %}
{% macro spark__aggregate_config(unique_key, post_hook) -%}
    {{ config(materialized='table', file_format='parquet') }}
{%- endmacro %}

{#- The time of the match the warehouse holds: the value of `matched_at` for rows written now. -#}
{% macro match_time() -%}
    {{ return(adapter.dispatch('match_time', 'newsroom')()) }}
{%- endmacro %}
{% macro default__match_time() -%}
    (select max(matched_at) from intermediate.matching_state)
{%- endmacro %}
{#- Spark's text analysis keeps no matching state, and its marts are rebuilt whole: the build time. -#}
{% macro spark__match_time() -%}
    current_timestamp()
{%- endmacro %}

{#- Whether this build of an aggregate mart redoes the whole table: on a first build or a full
    refresh, when the table is empty, and when a full match ran since its last build (its groups can
    split, which the changed headlines alone do not show). Read when the model compiles. -#}
{% macro aggregates_in_full() -%}
    {%- if not is_incremental() -%}{{ return(true) }}{%- endif -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set up_to_date -%}
        select coalesce(
            (select max(matched_at) from {{ this }}) >= (select max(full_at) from intermediate.matching_state),
            false
        )
    {%- endset -%}
    {{ return(not run_query(up_to_date).columns[0].values()[0]) }}
{%- endmacro %}

{#- Headlines (rows of `headlines`) whose groups were written since the last build of this model:
    their ids, duplicate group and story. -#}
{% macro matched_since_build(headlines) -%}
    select headline_id, duplicate_group_id, story_id from {{ headlines }}
    where matched_at > (select max(matched_at) from {{ this }})
{%- endmacro %}

{#- marts.headlines with each headline's position in its duplicate group (1: the first seen, as is a
    headline without duplicates), over whole groups: every group, or with `touching` (a condition on
    headlines) the groups holding a headline that meets it, so the first of each is still found. -#}
{% macro headlines_by_group_position(touching=none) -%}
    select
        *,
        row_number() over (
            partition by coalesce(duplicate_group_id, headline_id) order by load_date, file_id, line_no
        ) as position_in_group
    from {{ ref('headlines') }}
    {%- if touching %}
    where coalesce(duplicate_group_id, headline_id) in (
        select coalesce(duplicate_group_id, headline_id) from {{ ref('headlines') }} where {{ touching }}
    )
    {%- endif %}
{%- endmacro %}
