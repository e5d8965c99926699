{#- Every pair of headlines the matcher linked, with the rule and score that linked them. -#}
with pairs as (
    select * from {{ source('analysis', 'headline_pairs') }}
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
