{#- Per file, like the other per-file models (macros/per_file.sql), except for the columns matching
    decides across files: a new headline can join two stories, or two duplicate groups, of older
    files. After each build those columns are updated where intermediate.headline_matches now
    differs (macros/marts.sql), so only rows whose groups changed are rewritten, and stamped with the
    match that changed them (`matched_at`): the aggregate marts redo what those rows touch. -#}
{{ newsroom.per_file_config(post_hooks=['{{ newsroom.refresh_matches() }}']) }}
{%- set headline_files = "(select file_id from " ~ ref('int_line_roles') ~ " where role in ('headline', 'related_headline'))" %}
with roles as (
    select * from {{ ref('int_line_roles') }}
    where role in ('headline', 'related_headline')
        {{ newsroom.only_new_files(headline_files, 'and') }}
),

files as (
    select * from {{ ref('stg_raw__files') }}
),

languages as (
    select * from {{ source('analysis', 'line_language') }}
    {{ newsroom.only_new_files(headline_files) }}
),

topics as (
    select * from {{ source('analysis', 'headline_topics') }}
    {{ newsroom.only_new_files(headline_files) }}
),

matches as (
    select * from {{ source('analysis', 'headline_matches') }}
    {{ newsroom.only_new_files(headline_files) }}
),

final as (
    select
        {{ newsroom.line_id('roles.file_id', 'roles.line_no') }} as headline_id,
        roles.file_id,
        roles.line_no,
        roles.role,
        roles.text,
        roles.block_id,
        files.load_date,
        {{ newsroom.analysis_columns('languages', 'topics') }},
        matches.normalized_text,
        matches.duplicate_group_id,
        matches.story_id,
        {{ newsroom.match_time() }} as matched_at
    from roles
    inner join files on roles.file_id = files.file_id
    left join languages on roles.file_id = languages.file_id and roles.line_no = languages.line_no
    left join topics on roles.file_id = topics.file_id and roles.line_no = topics.line_no
    left join matches on roles.file_id = matches.file_id and roles.line_no = matches.line_no
)

select * from final
