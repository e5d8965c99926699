{#- Coverage per day, topic and language, raw and de-duplicated. The day is the file's load date.
    Raw: every headline row. De-duplicated: a duplicate group counts once (on the day and under the
    topic of its first headline); a story counts once per day it appears, under the story's topic and
    language. Shares are of the day's total, so each share column sums to 1 per day. -#}
{#- Kept, not rebuilt (macros/marts.sql, aggregate_config): a build redoes the days whose cells can
    change, and drops the days no headline or article is on any more. -#}
{{ newsroom.aggregate_config(
    'day',
    "delete from {{ this }} where day not in (select load_date from {{ ref('headlines') }} union "
    ~ "select files.load_date from {{ ref('articles') }} as articles "
    ~ "inner join {{ ref('stg_raw__files') }} as files on articles.file_id = files.file_id)"
) }}
{%- set in_full = newsroom.aggregates_in_full() %}
with all_articles as (
    select articles.*, files.load_date
    from {{ ref('articles') }} as articles
    inner join {{ ref('stg_raw__files') }} as files on articles.file_id = files.file_id
),
{%- if not in_full %}

matched as (
    {{ newsroom.matched_since_build(ref('headlines')) }}
),

article_days as (
    select load_date as day, count(*) as articles from all_articles group by load_date
),

counted_article_days as (
    select day, sum(articles) as articles from {{ this }} group by day
),

{#- The days whose cells can change: those of the headlines matched since the last build (new ones,
    and older ones a merge moved to another story or group); every day of a story whose topic,
    language or id changed since (stories.labelled_at: its cells on those days move); every day of a
    duplicate group a matched headline is in (which headline is first can change); and the days whose
    article count changed. A story that only gained headlines keeps its cells on its other days, so a
    long-running story no longer has all its days recounted on every run that adds to it. -#}
days as (
    select load_date as day from {{ ref('headlines') }}
    where matched_at > (select max(matched_at) from {{ this }})
        or story_id in (
            select story_id from {{ ref('stories') }}
            where labelled_at > (select max(matched_at) from {{ this }})
        )
        or coalesce(duplicate_group_id, headline_id)
        in (select coalesce(duplicate_group_id, headline_id) from matched)
    union
    select coalesce(article_days.day, counted_article_days.day) as day
    from article_days
    full outer join counted_article_days on article_days.day = counted_article_days.day
    where coalesce(article_days.articles, 0) <> coalesce(counted_article_days.articles, 0)
),
{%- endif %}

headlines as (
    select *, position_in_group = 1 as is_first_of_duplicates
    from ({{ newsroom.headlines_by_group_position(none if in_full else 'load_date in (select day from days)') }})
        as positioned
),

day_headlines as (
    select * from headlines
    {%- if not in_full %}
    where load_date in (select day from days)
    {%- endif %}
),

stories as (
    select * from {{ ref('stories') }}
),

articles as (
    select * from all_articles
    {%- if not in_full %}
    where load_date in (select day from days)
    {%- endif %}
),

headline_cells as (
    select
        load_date as day,
        topic,
        language,
        count(*) as headline_rows,
        sum(case when is_first_of_duplicates then 1 else 0 end) as unique_headlines
    from day_headlines
    group by load_date, topic, language
),

story_days as (
    select distinct load_date as day, story_id from day_headlines
),

story_cells as (
    select story_days.day, stories.topic, stories.language, count(*) as distinct_stories
    from story_days
    inner join stories on story_days.story_id = stories.story_id
    group by story_days.day, stories.topic, stories.language
),

article_cells as (
    select load_date as day, topic, language, count(*) as articles
    from articles
    group by load_date, topic, language
),

cells as (
    select day, topic, language from headline_cells
    union
    select day, topic, language from story_cells
    union
    select day, topic, language from article_cells
),

counted as (
    select
        cells.day,
        cells.topic,
        cells.language,
        coalesce(headline_cells.headline_rows, 0) as headline_rows,
        coalesce(headline_cells.unique_headlines, 0) as unique_headlines,
        coalesce(story_cells.distinct_stories, 0) as distinct_stories,
        coalesce(article_cells.articles, 0) as articles
    from cells
    left join headline_cells
        on cells.day = headline_cells.day and cells.topic = headline_cells.topic
        and cells.language = headline_cells.language
    left join story_cells
        on cells.day = story_cells.day and cells.topic = story_cells.topic
        and cells.language = story_cells.language
    left join article_cells
        on cells.day = article_cells.day and cells.topic = article_cells.topic
        and cells.language = article_cells.language
),

final as (
    select
        *,
        cast(headline_rows as double) / nullif(sum(headline_rows) over (partition by day), 0) as headline_share,
        cast(unique_headlines as double) / nullif(sum(unique_headlines) over (partition by day), 0)
            as unique_headline_share,
        cast(distinct_stories as double) / nullif(sum(distinct_stories) over (partition by day), 0) as story_share,
        cast(articles as double) / nullif(sum(articles) over (partition by day), 0) as article_share,
        {{ newsroom.match_time() }} as matched_at
    from counted
)

select * from final
