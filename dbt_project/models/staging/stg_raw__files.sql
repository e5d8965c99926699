with source as (
    select * from {{ source('raw', 'files') }}
),

renamed as (
    select
        file_id,
        path as file_path,
        size_bytes,
        encoding,
        line_count,
        status,
        reason,
        loaded_at,
        superseded_at,
        superseded_at is null as is_current,
        cast(loaded_at as date) as load_date
    from source
),

final as (
    select * from renamed
)

select * from final
