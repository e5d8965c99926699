{#- What the Python text analysis reads (language, topics, matching features; assets/file_analysis.py
    and assets/text_batches.py), on any engine: one row per headline, title, heading and paragraph
    line, and one per article (role `article`: its title and its paragraphs joined in order), with the
    file's path and load day, which date its news. A view: it is read once per file, for new files. -#}
{{ config(materialized='view') }}
with text_lines as (
    select * from {{ ref('int_line_roles') }}
    where role in ('headline', 'related_headline', 'article_title', 'section_heading', 'paragraph')
),

paragraphs as (
    select * from {{ ref('int_paragraphs') }}
),

{#- titles are read apart from text_lines: a CTE read twice is materialised whole by DuckDB, for
    every batch of files the analysis reads -#}
titles as (
    select file_id, line_no, text from {{ ref('int_line_roles') }}
    where role = 'article_title'
),

files as (
    select * from {{ source('raw', 'files') }}
),

line_texts as (
    select
        file_id,
        line_no,
        role,
        text,
        cast(word_count as {{ dbt.type_int() }}) as word_count,
        cast(null as {{ dbt.type_string() }}) as article_id,
        cast(null as {{ dbt.type_string() }}) as body
    from text_lines
),

article_texts as (
    select
        paragraphs.file_id,
        paragraphs.title_line as line_no,
        'article' as role,
        titles.text,
        cast(null as {{ dbt.type_int() }}) as word_count,
        paragraphs.article_id,
        {{ newsroom.agg_string('paragraphs.text', "' '", 'paragraphs.line_no') }} as body
    from paragraphs
    inner join titles
        on paragraphs.file_id = titles.file_id and paragraphs.title_line = titles.line_no
    group by paragraphs.file_id, paragraphs.title_line, titles.text, paragraphs.article_id
),

texts as (
    select * from line_texts
    union all
    select * from article_texts
),

final as (
    select
        texts.file_id,
        texts.line_no,
        texts.role,
        texts.text,
        texts.word_count,
        texts.article_id,
        texts.body,
        files.path as file_path,
        cast({{ dbt.datediff("cast('1970-01-01' as date)", "cast(files.loaded_at as date)", "day") }}
            as {{ dbt.type_int() }}) as loaded_day
    from texts
    inner join files on texts.file_id = files.file_id
)

select * from final
