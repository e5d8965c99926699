with paragraphs as (
    select * from {{ ref('int_paragraphs') }}
),

final as (
    select
        article_id,
        paragraph_no,
        line_no,
        section_heading,
        text,
        sources_cited
    from paragraphs
)

select * from final
