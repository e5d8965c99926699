{#- Stable id of a line (and of an article, by its title line): md5 of 'file_id:line_no'.
    assets/analysis.py computes the same id in Python (headline_id). -#}
{% macro line_id(file_id, line_no) -%}
    {{ dbt.hash(file_id ~ " || ':' || cast(" ~ line_no ~ " as " ~ dbt.type_string() ~ ")") }}
{%- endmacro %}

{#- The language and topic columns every analysed mart carries, with their defaults when the text
    analysis has no row (`und`, `unclassified`, empty lists). -#}
{% macro analysis_columns(language_alias, topic_alias) -%}
        coalesce({{ language_alias }}.language, 'und') as language,
        coalesce({{ language_alias }}.language_confidence, 0.0) as language_confidence,
        coalesce({{ topic_alias }}.topic, 'unclassified') as topic,
        coalesce({{ topic_alias }}.topic_score, 0.0) as topic_score,
        coalesce({{ topic_alias }}.topics, {{ newsroom.empty_string_list() }}) as topics,
        coalesce({{ topic_alias }}.topic_terms, {{ newsroom.empty_string_list() }}) as topic_terms
{%- endmacro %}
