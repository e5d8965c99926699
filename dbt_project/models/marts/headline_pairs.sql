{#- Every pair of headlines the matcher linked, with the rule and score that linked them. Kept in
    step with the matcher's pairs rather than rebuilt (macros/marts.sql: pairs_config). -#}
{{ newsroom.pairs_config() }}
{%- set since = newsroom.match_log_since() if is_incremental() else none %}
with pairs as (
    {%- if since %}
    {#- the pairs the incremental matches added since the last build, less those a later one dropped -#}
    select headline_id_a, headline_id_b, relation, score, rule from intermediate.pair_changes as added
    where change = 'added' and matched_at > {{ since }}
        and not exists (
            select 1 from intermediate.pair_changes as dropped
            where dropped.change = 'removed' and dropped.matched_at > added.matched_at
                and {{ newsroom.same_pair('dropped', 'added') }}
        )
    {%- else %}
    select * from {{ source('analysis', 'headline_pairs') }} as matched
    {%- if is_incremental() %}
    where not exists (select 1 from {{ this }} as built where {{ newsroom.same_pair('built', 'matched') }})
    {%- endif %}
    {%- endif %}
),

headlines as (
    select headline_id, text from {{ ref('headlines') }}
    {%- if since %}
    {#- only the new pairs' own headlines: read twice, this CTE is materialised, and all 4 M
        headlines with their text cost 0.8 s at 1 GB against 0.2 s -#}
    where headline_id in (select headline_id_a from pairs union all select headline_id_b from pairs)
    {%- endif %}
),

final as (
    select
        pairs.headline_id_a,
        pairs.headline_id_b,
        pairs.relation,
        pairs.score,
        pairs.rule,
        a.text as text_a,
        b.text as text_b,
        {{ newsroom.match_time() }} as matched_at
    from pairs
    inner join headlines as a on pairs.headline_id_a = a.headline_id
    inner join headlines as b on pairs.headline_id_b = b.headline_id
)

select * from final
