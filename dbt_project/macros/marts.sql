{#- Post-hook of marts.headlines: the columns matching decides across files (normalised text, duplicate
    group, story) follow intermediate.headline_matches. Only rows whose values differ are updated:
    after one new file, the headlines whose group it changed. Which rows to compare: the headlines the
    incremental matches logged since this table's last build (match_log_since), or, when the log does
    not reach back that far, all of them (4 M rows at 1 GB: 4 s, against a few hundred). -#}
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
    {%- set since = newsroom.match_log_since(written_this_build=true) %}
    {%- if since %}
        and matches.headline_id in (
            select headline_id from intermediate.regrouped_headlines where matched_at > {{ since }}
        )
    {%- endif %}
{%- endmacro %}
{#- On Spark marts.headlines is rebuilt whole from headline_matches each run (macros/per_file.sql):
    nothing to refresh. -#}
{% macro spark__refresh_matches() -%}
{%- endmacro %}

{#- marts.headline_pairs follows intermediate.headline_pairs. On DuckDB it is kept, not rebuilt: a run
    appends the pairs it does not hold yet and deletes those the matcher no longer has (a new
    identical headline takes the place of a pair in a chain; a full match rescores every pair), so
    after one new file it writes only that file's pairs. Which pairs those are: the incremental
    matches' log when it reaches back to the table's last build (match_log_since), else both tables
    compared whole (5.4 M pairs each at 1 GB: 2-3 s each way). Spark rebuilds it whole. -#}
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
    {%- set since = newsroom.match_log_since(written_this_build=true) %}
    {%- if since %}
    delete from {{ this }} as built
    where exists (
        select 1 from intermediate.pair_changes as dropped
        where dropped.change = 'removed' and dropped.matched_at > {{ since }}
            and {{ newsroom.same_pair('built', 'dropped') }}
    )
    {%- else %}
    delete from {{ this }} as built
    where not exists (
        select 1 from {{ source('analysis', 'headline_pairs') }} as pairs
        where {{ newsroom.same_pair('built', 'pairs') }}
    )
    {%- endif %}
{%- endmacro %}

{#- The match log on DuckDB: each incremental match writes the headlines it added or regrouped
    (intermediate.regrouped_headlines) and the pairs it added or dropped (intermediate.pair_changes),
    stamped with its time; a full match empties both. The time, as a SQL literal, of the last match
    this table applied, when the log holds every change since (no full match after it); none when it
    does not, or before a first build. `written_this_build`: in a post-hook, where the build's own rows
    carry the current match's time, the last match applied is the latest older stamp. Read when the
    SQL renders. -#}
{% macro match_log_since(written_this_build=false) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set applied -%}
        with applied as (
            select max(matched_at) as applied_at from {{ this }}
            {%- if written_this_build %} where matched_at < {{ newsroom.match_time() }}{% endif %}
        )
        select cast(applied_at as varchar) from applied
        where applied_at >= (select max(full_at) from intermediate.matching_state)
    {%- endset -%}
    {%- set rows = run_query(applied).rows -%}
    {%- if rows | length == 0 or rows[0][0] is none -%}{{ return(none) }}{%- endif -%}
    {{ return("cast('" ~ rows[0][0] ~ "' as timestamp)") }}
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

{#- Post-hook of marts.stories (DuckDB): drop the stories no headline is in any more. A story is
    named by its smallest headline id, so a story a merge emptied is named after a headline that is now
    in another story, and marts.headlines stamped that headline when it took the merge. While no full
    match ran since this table's previous build (match_log_since), those headlines (stamped after it,
    in a story not named after them) are the only candidates: about the headlines of one match,
    against every story compared with 4 M headlines (0.47 s at 1 GB, on every run, because the giant
    story is rewritten each time). After a full match (which can split stories, and drops the
    headlines of files that are gone) or on a first build, every story is compared. -#}
{% macro delete_emptied_stories() -%}
    {%- set since = newsroom.match_log_since(written_this_build=true) %}
    {%- if since %}
    delete from {{ this }} where story_id in (
        select headline_id from {{ ref('headlines') }}
        where matched_at > {{ since }} and story_id <> headline_id
    )
    {%- else %}
    delete from {{ this }} where story_id not in (select distinct story_id from {{ ref('headlines') }})
    {%- endif %}
{%- endmacro %}

{#- Headlines (rows of `headlines`) whose groups were written since the last build of this model:
    their ids, duplicate group and story. -#}
{% macro matched_since_build(headlines) -%}
    select headline_id, duplicate_group_id, story_id from {{ headlines }}
    where matched_at > (select max(matched_at) from {{ this }})
{%- endmacro %}

{#- marts.headlines with each headline's position in its duplicate group (1: the first seen, as is a
    headline without duplicates), over whole groups: every group, or with `touching` (a condition on
    headlines) the groups holding a headline that meets it, so the first of each is still found. Only
    the grouped headlines (13% at 1 GB) go through the window: sorting every headline by its own
    one-row group took 3.4 of topic_counts' 4.8 s over a day of 4 M headlines. -#}
{% macro headlines_by_group_position(touching=none) -%}
    select *, 1 as position_in_group
    from {{ ref('headlines') }}
    where duplicate_group_id is null
    {%- if touching %} and ({{ touching }}){% endif %}
    union all
    select
        *,
        row_number() over (
            partition by duplicate_group_id order by load_date, file_id, line_no
        ) as position_in_group
    from {{ ref('headlines') }}
    where duplicate_group_id is not null
    {%- if touching %}
        and duplicate_group_id in (
            select duplicate_group_id from {{ ref('headlines') }}
            where duplicate_group_id is not null and ({{ touching }})
        )
    {%- endif %}
{%- endmacro %}
