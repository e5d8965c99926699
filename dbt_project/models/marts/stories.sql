{#- One row per story (a headline alone is a story of one). The canonical headline is the first
    seen; the topic is the most common topic among the story's headlines. Kept, not rebuilt
    (macros/marts.sql, aggregate_config): a build redoes the stories of the headlines matched since
    the last one, and drops the stories a merge emptied. `labelled_at` is the match that last
    changed the story's topic or language, or gave it its id: topic_counts redoes every day of a
    story only then, not each time the story gains a headline. -#}
{{ newsroom.aggregate_config('story_id', "{{ newsroom.delete_emptied_stories() }}") }}
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

{#- Only the columns used below: this CTE is read twice, and DuckDB keeps it. -#}
dated as (
    select
        headlines.story_id,
        headlines.headline_id,
        headlines.file_id,
        headlines.line_no,
        headlines.text,
        headlines.language,
        headlines.topic,
        headlines.duplicate_group_id,
        files.loaded_at
    from headlines
    inner join files on headlines.file_id = files.file_id
),

topic_votes as (
    select
        story_id,
        topic,
        row_number() over (partition by story_id order by count(*) desc, min(loaded_at), topic) as topic_rank
    from dated
    group by story_id, topic
),

{#- Group by story without a window over its headlines: the first one by first_by, the collapsed
    duplicates as distinct groups plus headlines without one (the same as counting distinct
    coalesce(duplicate_group_id, headline_id), at a seventh of the distinct keys). -#}
aggregated as (
    select
        story_id,
        count(*) as headline_count,
        count(distinct duplicate_group_id) + count(*) - count(duplicate_group_id) as distinct_headlines,
        count(distinct file_id) as distinct_files,
        min(loaded_at) as first_seen,
        max(loaded_at) as last_seen,
        {{ newsroom.agg_distinct_sorted('language') }} as languages,
        {{ newsroom.first_by(['text', 'headline_id', 'language'], ['loaded_at', 'file_id', 'line_no']) }}
            as canonical
    from dated
    group by story_id
),

final as (
    select
        aggregated.story_id,
        aggregated.canonical.text as canonical_headline,
        aggregated.canonical.headline_id as canonical_headline_id,
        aggregated.headline_count,
        aggregated.distinct_headlines,
        aggregated.distinct_files,
        aggregated.first_seen,
        aggregated.last_seen,
        topic_votes.topic,
        aggregated.canonical.language as language,
        aggregated.languages,
        {{ newsroom.match_time() }} as matched_at,
        {%- if in_full %}
        {{ newsroom.match_time() }} as labelled_at
        {%- else %}
        case
            when previous.topic = topic_votes.topic and previous.language = aggregated.canonical.language
                then previous.labelled_at
            else {{ newsroom.match_time() }}
        end as labelled_at
        {%- endif %}
    from aggregated
    inner join topic_votes
        on aggregated.story_id = topic_votes.story_id and topic_votes.topic_rank = 1
    {%- if not in_full %}
    left join {{ this }} as previous on aggregated.story_id = previous.story_id
    {%- endif %}
)

select * from final
