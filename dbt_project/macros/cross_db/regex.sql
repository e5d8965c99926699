{#- Regular expressions, written once in RE2/Java-compatible syntax and rendered for each engine.
    DuckDB takes the pattern as written and replaces only the first match unless given 'g';
    Spark SQL string literals eat one level of backslashes, so they are doubled there. -#}

{% macro sql_pattern(pattern) -%}
    {{ return(adapter.dispatch('sql_pattern', 'newsroom')(pattern)) }}
{%- endmacro %}
{% macro default__sql_pattern(pattern) -%}
    '{{ pattern | replace("'", "''") }}'
{%- endmacro %}
{% macro spark__sql_pattern(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- Replace every match of pattern in expr. -#}
{% macro re_replace(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('re_replace', 'newsroom')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__re_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ newsroom.sql_pattern(pattern) }}, '{{ replacement }}', 'g')
{%- endmacro %}
{% macro spark__re_replace(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ newsroom.sql_pattern(pattern) }}, '{{ replacement }}')
{%- endmacro %}

{#- True when pattern matches anywhere in expr. -#}
{% macro re_matches(expr, pattern) -%}
    {{ return(adapter.dispatch('re_matches', 'newsroom')(expr, pattern)) }}
{%- endmacro %}
{% macro default__re_matches(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ newsroom.sql_pattern(pattern) }})
{%- endmacro %}
{% macro spark__re_matches(expr, pattern) -%}
    ({{ expr }} rlike {{ newsroom.sql_pattern(pattern) }})
{%- endmacro %}

{#- Every match of pattern (capture group `group`, 0 = whole match) as a list of strings. -#}
{% macro re_extract_all(expr, pattern, group=0) -%}
    {{ return(adapter.dispatch('re_extract_all', 'newsroom')(expr, pattern, group)) }}
{%- endmacro %}
{% macro default__re_extract_all(expr, pattern, group=0) -%}
    regexp_extract_all({{ expr }}, {{ newsroom.sql_pattern(pattern) }}, {{ group }})
{%- endmacro %}
{% macro spark__re_extract_all(expr, pattern, group=0) -%}
    regexp_extract_all({{ expr }}, {{ newsroom.sql_pattern(pattern) }}, {{ group }})
{%- endmacro %}
