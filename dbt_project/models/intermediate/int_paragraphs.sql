{#- Paragraphs of articles, with the section heading they fall under and the inline credits
    "(Source: X)" moved out of the text into a list. -#}
{{ newsroom.per_file_config() }}
{%- set credit_pattern = '\\(\\s*(?i:sources?)\\s*:\\s*([^)]*)\\)' -%}
with roles as (
    select * from {{ ref('int_line_roles') }}
    where block_kind = 'article'
        {{ newsroom.only_new_files("(select file_id from " ~ ref('int_line_roles') ~ " where block_kind = 'article')", 'and') }}
),

titled_blocks as (
    select
        block_id,
        min(line_no) as title_line
    from roles
    where role = 'article_title'
    group by block_id
),

body_lines as (
    select
        roles.*,
        titled_blocks.title_line,
        max(case when roles.role = 'section_heading' then roles.line_no end) over (
            partition by roles.block_id order by roles.line_no
            rows between unbounded preceding and current row
        ) as heading_line_no
    from roles
    inner join titled_blocks on roles.block_id = titled_blocks.block_id
    where roles.role in ('paragraph', 'section_heading')
),

paragraphs as (
    select
        body.file_id,
        body.block_id,
        body.title_line,
        body.line_no,
        body.text as text_with_credits,
        headings.text as section_heading,
        {{ newsroom.list_join(newsroom.re_extract_all('body.text', credit_pattern, 1), "';'") }}
            as credits_joined
    from body_lines as body
    left join body_lines as headings
        on body.block_id = headings.block_id
        and body.heading_line_no = headings.line_no
    where body.role = 'paragraph'
),

final as (
    select
        {{ newsroom.line_id('file_id', 'title_line') }} as article_id,
        file_id,
        block_id,
        title_line,
        line_no,
        row_number() over (partition by block_id order by line_no) as paragraph_no,
        section_heading,
        {{ newsroom.clean_whitespace(newsroom.re_replace('text_with_credits', credit_pattern, ' ')) }}
            as text,
        {{ newsroom.re_extract_all('credits_joined', '[^,;\\s](?:[^,;]*[^,;\\s])?') }} as sources_cited
    from paragraphs
)

select * from final
