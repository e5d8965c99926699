{#- Every pair of headlines the matcher linked, with the rule and score that linked them. Kept in
    step with the matcher's pairs rather than rebuilt (macros/marts.sql: pairs_config). -#}
{{ newsroom.pairs_config() }}
with pairs as (
    select * from {{ source('analysis', 'headline_pairs') }} as matched
    {%- if is_incremental() %}
    where not exists (select 1 from {{ this }} as built where {{ newsroom.same_pair('built', 'matched') }})
    {%- endif %}
),

headlines as (
    select headline_id, text from {{ ref('headlines') }}
),

final as (
    select
        pairs.headline_id_a,
        pairs.headline_id_b,
        pairs.relation,
        pairs.score,
        pairs.rule,
        a.text as text_a,
        b.text as text_b
    from pairs
    inner join headlines as a on pairs.headline_id_a = a.headline_id
    inner join headlines as b on pairs.headline_id_b = b.headline_id
)

select * from final
