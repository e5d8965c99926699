{#- One row per phrase key; where two spellings collapse to one key, `nav` wins over `furniture`. -#}
with source as (
    select * from {{ ref('boilerplate_phrases') }}
),

renamed as (
    select
        {{ newsroom.phrase_key('phrase') }} as phrase_key,
        kind as boilerplate_kind
    from source
),

final as (
    select
        phrase_key,
        max(boilerplate_kind) as boilerplate_kind
    from renamed
    group by phrase_key
)

select * from final
