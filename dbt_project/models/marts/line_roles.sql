{{ newsroom.per_file_config() }}
with roles as (
    select * from {{ ref('int_line_roles') }}
    {{ newsroom.only_new_files(ref('int_line_roles')) }}
),

final as (
    select
        file_id,
        line_no,
        role,
        rule,
        block_id,
        block_kind,
        text
    from roles
)

select * from final
