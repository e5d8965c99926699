{#- One row per story (a headline alone is a story of one). The canonical headline is the first
    seen; the topic is the most common topic among the story's headlines. Kept, not rebuilt
    (macros/marts.sql, aggregate_config): a build redoes the stories of the headlines matched since
    the last one, and drops the stories a merge emptied. -#}
{{ newsroom.aggregate_config(
    'story_id', "delete from {{ this }} where story_id not in (select distinct story_id from {{ ref('headlines') }})"
) }}
{%- set in_full = newsroom.aggregates_in_full() %}
with headlines as (
    select * from {{ ref('headlines') }}
    {%- if not in_full %}
    where story_id in (select story_id from ({{ newsroom.matched_since_build(ref('headlines')) }}) as matched)
    {%- endif %}
),

files as (
    select file_id, loaded_at from {{ ref('stg_raw__files') }}
),

ranked as (
    select
        headlines.*,
        files.loaded_at,
        row_number() over (
            partition by headlines.story_id order by files.loaded_at, headlines.file_id, headlines.line_no
        ) as position_in_story
    from headlines
    inner join files on headlines.file_id = files.file_id
),

topic_votes as (
    select
        story_id,
        topic,
        row_number() over (partition by story_id order by count(*) desc, min(loaded_at), topic) as topic_rank
    from ranked
    group by story_id, topic
),

aggregated as (
    select
        story_id,
        count(*) as headline_count,
        count(distinct coalesce(duplicate_group_id, headline_id)) as distinct_headlines,
        count(distinct file_id) as distinct_files,
        min(loaded_at) as first_seen,
        max(loaded_at) as last_seen,
        {{ newsroom.agg_distinct_sorted('language') }} as languages
    from ranked
    group by story_id
),

final as (
    select
        aggregated.story_id,
        canonical.text as canonical_headline,
        canonical.headline_id as canonical_headline_id,
        aggregated.headline_count,
        aggregated.distinct_headlines,
        aggregated.distinct_files,
        aggregated.first_seen,
        aggregated.last_seen,
        topic_votes.topic,
        canonical.language,
        aggregated.languages,
        {{ newsroom.match_time() }} as matched_at
    from aggregated
    inner join ranked as canonical
        on aggregated.story_id = canonical.story_id and canonical.position_in_story = 1
    inner join topic_votes
        on aggregated.story_id = topic_votes.story_id and topic_votes.topic_rank = 1
)

select * from final
