{#- Each article's body: its paragraphs joined in order, the sources they cite, their words. Built per
    file, in batches (macros/per_file.sql): as one aggregate over a gigabyte of paragraphs in
    marts.articles, these ordered text aggregates ran out of the 2 GB memory cap. -#}
{{ newsroom.per_file_config() }}
with paragraphs as (
    select * from {{ ref('int_paragraphs') }}
    {{ newsroom.only_new_files(ref('int_paragraphs')) }}
),

final as (
    select
        file_id,
        block_id,
        count(*) as paragraph_count,
        max(line_no) as last_paragraph_line,
        {{ newsroom.agg_string('text', newsroom.newline() ~ ' || ' ~ newsroom.newline(), 'line_no') }} as body,
        {{ newsroom.list_flatten(newsroom.agg_list('sources_cited', 'line_no')) }} as sources_cited,
        cast(sum({{ newsroom.word_count("text") }}) as bigint) as word_count
    from paragraphs
    group by file_id, block_id
)

select * from final
