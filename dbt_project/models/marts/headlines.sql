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
        {{ dbt.hash("roles.file_id || ':' || cast(roles.line_no as " ~ dbt.type_string() ~ ")") }} as headline_id,
        roles.file_id,
        roles.line_no,
        roles.role,
        roles.text,
        roles.block_id,
        files.load_date,
        coalesce(languages.language, 'und') as language,
        coalesce(languages.language_confidence, 0.0) as language_confidence,
        coalesce(topics.topic, 'unclassified') as topic,
        coalesce(topics.topic_score, 0.0) as topic_score,
        coalesce(topics.topics, {{ newsroom.empty_string_list() }}) as topics,
        coalesce(topics.topic_terms, {{ newsroom.empty_string_list() }}) as topic_terms,
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
