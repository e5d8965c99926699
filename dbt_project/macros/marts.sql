{#- Post-hook of marts.headlines: the columns matching decides across files (normalised text, duplicate
    group, story) follow intermediate.headline_matches, which the text analysis rewrites every run.
    Only rows whose values differ are updated: after one new file, the headlines whose group it
    changed. -#}
{% macro refresh_matches() -%}
    {{ return(adapter.dispatch('refresh_matches', 'newsroom')()) }}
{%- endmacro %}
{% macro default__refresh_matches() -%}
    update {{ this }} as headlines
    set
        normalized_text = matches.normalized_text,
        duplicate_group_id = matches.duplicate_group_id,
        story_id = matches.story_id
    from {{ source('analysis', 'headline_matches') }} as matches
    where headlines.file_id = matches.file_id
        and headlines.line_no = matches.line_no
        and (
            headlines.normalized_text is distinct from matches.normalized_text
            or headlines.duplicate_group_id is distinct from matches.duplicate_group_id
            or headlines.story_id is distinct from matches.story_id
        )
{%- endmacro %}
{#- On Spark marts.headlines is rebuilt whole from headline_matches each run (macros/per_file.sql):
    nothing to refresh. -#}
{% macro spark__refresh_matches() -%}
{%- endmacro %}
