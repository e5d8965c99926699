{{ newsroom.per_file_config() }}
with paragraphs as (
    select * from {{ ref('int_paragraphs') }}
    {{ newsroom.only_new_files(ref('int_paragraphs')) }}
),

languages as (
    select * from {{ source('analysis', 'line_language') }}
),

final as (
    select
        paragraphs.article_id,
        paragraphs.file_id,
        paragraphs.paragraph_no,
        paragraphs.line_no,
        paragraphs.section_heading,
        paragraphs.text,
        paragraphs.sources_cited,
        coalesce(languages.language, 'und') as language,
        coalesce(languages.language_confidence, 0.0) as language_confidence
    from paragraphs
    left join languages
        on paragraphs.file_id = languages.file_id and paragraphs.line_no = languages.line_no
)

select * from final
