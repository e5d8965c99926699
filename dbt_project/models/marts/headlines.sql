with roles as (
    select * from {{ ref('int_line_roles') }}
    where role in ('headline', 'related_headline')
),

files as (
    select * from {{ ref('stg_raw__files') }}
),

languages as (
    select * from {{ source('analysis', 'line_language') }}
),

topics as (
    select * from {{ source('analysis', 'headline_topics') }}
),

matches as (
    select * from {{ source('analysis', 'headline_matches') }}
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
        matches.story_id
    from roles
    inner join files on roles.file_id = files.file_id
    left join languages on roles.file_id = languages.file_id and roles.line_no = languages.line_no
    left join topics on roles.file_id = topics.file_id and roles.line_no = topics.line_no
    left join matches on roles.file_id = matches.file_id and roles.line_no = matches.line_no
)

select * from final
