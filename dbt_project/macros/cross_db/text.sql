{#- Text helpers built on the regex macros, so they behave the same on every engine. -#}

{#- Whitespace (including no-break space) collapsed to one space, trimmed at both ends. -#}
{% macro clean_whitespace(expr) -%}
    {{ newsroom.re_replace(newsroom.re_replace(expr, '[\\s\\x{00A0}]+', ' '), '^ | $', '') }}
{%- endmacro %}

{#- Number of whitespace-separated words: each word becomes one letter, whitespace is dropped. -#}
{% macro word_count(expr) -%}
    length({{ newsroom.re_replace(newsroom.re_replace(expr, '[^\\s\\x{00A0}]+', 'w'), '[\\s\\x{00A0}]+', '') }})
{%- endmacro %}

{#- Lowercase letters and digits only, single-spaced: the key boilerplate phrases are matched on. -#}
{% macro phrase_key(expr) -%}
    trim(lower({{ newsroom.re_replace(expr, '[^\\p{L}\\p{N}]+', ' ') }}))
{%- endmacro %}
