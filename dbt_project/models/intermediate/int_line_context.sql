{#- Each line with its neighbours: the previous and next *content* line (not blank, not a
    separator, not a boilerplate phrase) and the nearest navigation link, long text and separator
    above it. Neighbours are found by numbering content lines and joining on that number, which
    works on every engine (no IGNORE NULLS). -#}
{{ newsroom.per_file_config() }}
with lines as (
    select * from {{ ref('stg_raw__lines') }}
    {{ newsroom.only_new_files(ref('stg_raw__lines')) }}
),

phrases as (
    select * from {{ ref('stg_boilerplate_phrases') }}
),

tagged as (
    select
        lines.*,
        phrases.boilerplate_kind,
        not lines.is_blank and not lines.is_separator and phrases.boilerplate_kind is null
            as is_content,
        (lines.ends_with_sentence_punctuation and lines.word_count >= 15)
        or lines.word_count >= 40 as is_long_text
    from lines
    left join phrases on lines.phrase_key = phrases.phrase_key
),

content as (
    select
        file_id,
        line_no,
        is_long_text,
        row_number() over (partition by file_id order by line_no) as content_no
    from tagged
    where is_content
),

content_neighbours as (
    select
        content.file_id,
        content.line_no,
        content.content_no,
        prev_content.line_no as prev_content_line_no,
        prev_content.is_long_text as prev_is_long_text,
        next_content.line_no as next_content_line_no,
        next_content.is_long_text as next_is_long_text
    from content
    left join content as prev_content
        on content.file_id = prev_content.file_id
        and prev_content.content_no = content.content_no - 1
    left join content as next_content
        on content.file_id = next_content.file_id
        and next_content.content_no = content.content_no + 1
),

final as (
    select
        tagged.*,
        content_neighbours.content_no,
        content_neighbours.prev_content_line_no,
        coalesce(content_neighbours.prev_is_long_text, false) as prev_is_long_text,
        content_neighbours.next_content_line_no,
        coalesce(content_neighbours.next_is_long_text, false) as next_is_long_text,
        max(case when tagged.boilerplate_kind = 'nav' then tagged.line_no end) over (
            partition by tagged.file_id order by tagged.line_no
            rows between unbounded preceding and 1 preceding
        ) as last_nav_line_no,
        max(case when tagged.is_long_text then tagged.line_no end) over (
            partition by tagged.file_id order by tagged.line_no
            rows between unbounded preceding and 1 preceding
        ) as last_long_text_line_no,
        max(case when tagged.is_separator then tagged.line_no end) over (
            partition by tagged.file_id order by tagged.line_no
            rows between unbounded preceding and 1 preceding
        ) as last_separator_line_no
    from tagged
    left join content_neighbours
        on tagged.file_id = content_neighbours.file_id
        and tagged.line_no = content_neighbours.line_no
)

select * from final
