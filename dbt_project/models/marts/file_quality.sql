{#- Per file: how its lines were read and how clean its headlines are. Kept, not rebuilt
    (macros/marts.sql, aggregate_config): a build redoes the new files and those holding a headline
    of a duplicate group a headline matched since the last build is in (which of them repeats can
    change); files no longer current go. -#}
{{ newsroom.aggregate_config('file_id', "{{ newsroom.delete_stale_files() }}") }}
{%- set in_full = newsroom.aggregates_in_full() %}
with {%- if not in_full %}

matched as (
    {{ newsroom.matched_since_build(ref('headlines')) }}
),

redo as (
    select file_id from {{ ref('stg_raw__files') }}
    where status = 'loaded' and is_current and file_id not in (select file_id from {{ this }})
    union
    select file_id from {{ ref('headlines') }}
    where coalesce(duplicate_group_id, headline_id)
        in (select coalesce(duplicate_group_id, headline_id) from matched)
),
{%- endif %}

files as (
    select * from {{ ref('stg_raw__files') }}
    where status = 'loaded'
    {%- if not in_full %}
        and file_id in (select file_id from redo)
    {%- endif %}
),

roles as (
    select * from {{ ref('int_line_roles') }}
    {%- if not in_full %}
    where file_id in (select file_id from redo)
    {%- endif %}
),

headlines as (
    select *, position_in_group > 1 as is_repeat
    from ({{ newsroom.headlines_by_group_position(none if in_full else 'file_id in (select file_id from redo)') }})
        as positioned
),

languages as (
    select * from {{ source('analysis', 'line_language') }}
    {%- if not in_full %}
    where file_id in (select file_id from redo)
    {%- endif %}
),

role_mix as (
    select
        file_id,
        count(*) as lines,
        sum(case when role = 'headline' then 1 else 0 end) as headline_lines,
        sum(case when role = 'related_headline' then 1 else 0 end) as related_headline_lines,
        sum(case when role = 'article_title' then 1 else 0 end) as article_title_lines,
        sum(case when role = 'section_heading' then 1 else 0 end) as section_heading_lines,
        sum(case when role = 'paragraph' then 1 else 0 end) as paragraph_lines,
        sum(case when role = 'boilerplate' then 1 else 0 end) as boilerplate_lines,
        sum(case when role = 'blank' then 1 else 0 end) as blank_lines,
        sum(case when role = 'separator' then 1 else 0 end) as separator_lines
    from roles
    group by file_id
),

headline_quality as (
    select
        file_id,
        count(*) as headlines,
        sum(case when is_repeat then 1 else 0 end) as repeated_headlines,
        sum(case when topic = 'unclassified' then 1 else 0 end) as unclassified_headlines
    from headlines
    group by file_id
),

language_counts as (
    select file_id, language, count(*) as text_lines
    from languages
    group by file_id, language
),

language_mix as (
    select
        file_id,
        {{ newsroom.agg_list("language || '=' || cast(text_lines as " ~ dbt.type_string() ~ ")", "-text_lines") }}
            as language_mix
    from language_counts
    group by file_id
),

final as (
    select
        files.file_id,
        files.file_path,
        files.load_date,
        role_mix.lines,
        role_mix.headline_lines,
        role_mix.related_headline_lines,
        role_mix.article_title_lines,
        role_mix.section_heading_lines,
        role_mix.paragraph_lines,
        role_mix.boilerplate_lines,
        role_mix.blank_lines,
        role_mix.separator_lines,
        cast(role_mix.boilerplate_lines as double)
        / nullif(role_mix.lines - role_mix.blank_lines - role_mix.separator_lines, 0) as boilerplate_rate,
        coalesce(headline_quality.headlines, 0) as headlines,
        cast(headline_quality.repeated_headlines as double) / nullif(headline_quality.headlines, 0)
            as duplicate_rate,
        cast(headline_quality.unclassified_headlines as double) / nullif(headline_quality.headlines, 0)
            as unclassified_rate,
        coalesce(language_mix.language_mix, {{ newsroom.empty_string_list() }}) as language_mix,
        {{ newsroom.match_time() }} as matched_at
    from files
    inner join role_mix on files.file_id = role_mix.file_id
    left join headline_quality on files.file_id = headline_quality.file_id
    left join language_mix on files.file_id = language_mix.file_id
)

select * from final
