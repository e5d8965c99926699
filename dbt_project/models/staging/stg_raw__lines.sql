{#- One row per line of a loaded, current file (an older version of a changed file stays in raw,
    marked superseded, but is no longer read), with the features the line classifier reads.
    The one staging model that is a table, not a view: its regular expressions run over every line,
    and the staging gate's expectations and int_line_context read it six times per run; as a view
    each read recomputed them (the staging gate alone took 262 s at 1 GB). Built per file,
    incrementally (macros/per_file.sql). -#}
{{ newsroom.per_file_config() }}
with source as (
    select * from {{ source('raw', 'lines') }}
    {{ newsroom.only_new_files("(select file_id from " ~ source('raw', 'files') ~ " where status = 'loaded' and superseded_at is null)") }}
),

loaded_files as (
    select file_id from {{ source('raw', 'files') }}
    where status = 'loaded' and superseded_at is null
),

renamed as (
    select
        source.file_id,
        source.line_no,
        source.text as raw_text,
        {{ newsroom.clean_whitespace('source.text') }} as text
    from source
    inner join loaded_files on source.file_id = loaded_files.file_id
),

final as (
    select
        file_id,
        line_no,
        raw_text,
        text,
        length(text) as char_length,
        {{ newsroom.word_count('text') }} as word_count,
        text = '' as is_blank,
        {{ newsroom.re_matches('text', '^-+$') }} as is_separator,
        {{ newsroom.re_matches('text', '[.!?…]["\'”’»)\\]]*$') }} as ends_with_sentence_punctuation,
        {{ newsroom.re_matches('text', '^\\p{Ll}') }} as starts_lowercase,
        {{ newsroom.phrase_key('text') }} as phrase_key
    from renamed
)

select * from final
