with roles as (
    select * from {{ ref('int_line_roles') }}
    where role in ('headline', 'related_headline')
),

final as (
    select
        {{ dbt.hash("file_id || ':' || cast(line_no as " ~ dbt.type_string() ~ ")") }} as headline_id,
        file_id,
        line_no,
        role,
        text,
        block_id
    from roles
)

select * from final
