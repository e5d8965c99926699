{#- Exactly one role per line, the rule that decided it, and the block (headline list or article)
    the line belongs to. Rules are tried in order; their roles and descriptions live in the seed
    line_role_rules. -#}
{{ newsroom.per_file_config() }}
with context as (
    select * from {{ ref('int_line_context') }}
    {{ newsroom.only_new_files(ref('int_line_context')) }}
),

rules as (
    select * from {{ ref('line_role_rules') }}
),

ruled as (
    select
        context.*,
        case
            when is_blank then 'blank_line'
            when is_separator then 'dash_line'
            when boilerplate_kind is not null then 'boilerplate_phrase'
            when is_long_text then 'long_text'
            when char_length > 300 then 'over_long_line'
            when ends_with_sentence_punctuation and word_count >= 4
                and prev_is_long_text and next_is_long_text
                then 'sentence_between_paragraphs'
            when starts_lowercase and word_count <= 4 and not ends_with_sentence_punctuation
                and prev_is_long_text and (next_is_long_text or next_content_line_no is null)
                then 'stray_fragment'
            when next_is_long_text
                and (
                    not prev_is_long_text
                    or coalesce(last_separator_line_no, 0) > coalesce(prev_content_line_no, 0)
                )
                then 'before_paragraph'
            when next_is_long_text and prev_is_long_text then 'between_paragraphs'
            when coalesce(last_nav_line_no, 0) > coalesce(last_long_text_line_no, 0)
                then 'after_nav_link'
            else 'short_line'
        end as rule
    from context
),

with_role as (
    select
        ruled.*,
        rules.role,
        case rules.role
            when 'headline' then 'headline_list'
            when 'article_title' then 'article'
            when 'section_heading' then 'article'
            when 'paragraph' then 'article'
        end as line_block_kind
    from ruled
    inner join rules on ruled.rule = rules.rule
),

block_starts as (
    select
        file_id,
        line_no,
        line_block_kind,
        role = 'article_title'
        or coalesce(
            line_block_kind <> lag(line_block_kind) over (partition by file_id order by line_no),
            true
        ) as is_block_start
    from with_role
    where line_block_kind is not null
),

numbered as (
    select
        with_role.*,
        coalesce(block_starts.is_block_start, false) as is_block_start,
        sum(case when block_starts.is_block_start then 1 else 0 end) over (
            partition by with_role.file_id order by with_role.line_no
            rows between unbounded preceding and current row
        ) as block_no
    from with_role
    left join block_starts
        on with_role.file_id = block_starts.file_id
        and with_role.line_no = block_starts.line_no
),

final as (
    select
        file_id,
        line_no,
        raw_text,
        text,
        char_length,
        word_count,
        role,
        rule,
        case when block_no < 1 then 1 else block_no end as block_no,
        file_id || ':' || cast(case when block_no < 1 then 1 else block_no end as {{ dbt.type_string() }})
            as block_id,
        max(case when is_block_start then line_block_kind end) over (
            partition by file_id, case when block_no < 1 then 1 else block_no end
        ) as block_kind
    from numbered
)

select * from final
