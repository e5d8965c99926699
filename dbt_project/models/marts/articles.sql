{{ newsroom.per_file_config() }}
{%- set article_files = "(select file_id from " ~ ref('int_line_roles') ~ " where block_kind = 'article')" %}
with roles as (
    select * from {{ ref('int_line_roles') }}
    where block_kind = 'article'
        {{ newsroom.only_new_files(article_files, 'and') }}
),

titles as (
    select
        {{ newsroom.line_id('file_id', 'line_no') }} as article_id,
        block_id,
        file_id,
        line_no as title_line,
        text as title
    from roles
    where role = 'article_title'
),

headings as (
    select
        block_id,
        {{ newsroom.agg_list('text', 'line_no') }} as section_headings,
        max(line_no) as last_heading_line
    from roles
    where role = 'section_heading'
    group by block_id
),

analysis as (
    select * from {{ source('analysis', 'article_topics') }}
    {{ newsroom.only_new_files(article_files) }}
),

bodies as (
    select * from {{ ref('int_article_bodies') }}
    {{ newsroom.only_new_files(article_files) }}
),

final as (
    select
        titles.article_id,
        titles.file_id,
        titles.title,
        titles.title_line,
        greatest(bodies.last_paragraph_line, coalesce(headings.last_heading_line, 0)) as last_line,
        bodies.body,
        bodies.paragraph_count,
        coalesce(headings.section_headings, {{ newsroom.empty_string_list() }}) as section_headings,
        bodies.sources_cited,
        bodies.word_count,
        titles.block_id,
        {{ newsroom.analysis_columns('analysis', 'analysis') }}
    from titles
    inner join bodies on titles.block_id = bodies.block_id
    left join headings on titles.block_id = headings.block_id
    left join analysis on titles.article_id = analysis.article_id
)

select * from final
