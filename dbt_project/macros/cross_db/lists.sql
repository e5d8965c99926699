{#- List (array) helpers. DuckDB and Spark name these differently; models call only these. -#}

{#- Aggregate expr into a list ordered by order_by, ties by the value itself (Spark's collect_list has no
    order: its twin sorts (order_by, value) pairs, so both engines break ties the same way). -#}
{% macro agg_list(expr, order_by) -%}
    {{ return(adapter.dispatch('agg_list', 'newsroom')(expr, order_by)) }}
{%- endmacro %}
{% macro default__agg_list(expr, order_by) -%}
    coalesce(list({{ expr }} order by {{ order_by }}, {{ expr }}) filter (where {{ expr }} is not null), [])
{%- endmacro %}
{% macro spark__agg_list(expr, order_by) -%}
    transform(sort_array(collect_list(struct({{ order_by }} as k, {{ expr }} as v))), x -> x.v)
{%- endmacro %}

{#- Concatenate strings with a separator, ordered by order_by. -#}
{% macro agg_string(expr, separator_sql, order_by) -%}
    {{ return(adapter.dispatch('agg_string', 'newsroom')(expr, separator_sql, order_by)) }}
{%- endmacro %}
{% macro default__agg_string(expr, separator_sql, order_by) -%}
    string_agg({{ expr }}, {{ separator_sql }} order by {{ order_by }}, {{ expr }})
{%- endmacro %}
{% macro spark__agg_string(expr, separator_sql, order_by) -%}
    array_join({{ newsroom.spark__agg_list(expr, order_by) }}, {{ separator_sql }})
{%- endmacro %}

{% macro list_size(expr) -%}
    {{ return(adapter.dispatch('list_size', 'newsroom')(expr)) }}
{%- endmacro %}
{% macro default__list_size(expr) -%}
    len({{ expr }})
{%- endmacro %}
{% macro spark__list_size(expr) -%}
    size({{ expr }})
{%- endmacro %}

{% macro list_join(expr, separator_sql) -%}
    {{ return(adapter.dispatch('list_join', 'newsroom')(expr, separator_sql)) }}
{%- endmacro %}
{% macro default__list_join(expr, separator_sql) -%}
    array_to_string({{ expr }}, {{ separator_sql }})
{%- endmacro %}
{% macro spark__list_join(expr, separator_sql) -%}
    array_join({{ expr }}, {{ separator_sql }})
{%- endmacro %}

{#- Flatten a list of lists, keeping order. Same name on both engines. -#}
{% macro list_flatten(expr) -%}
    flatten({{ expr }})
{%- endmacro %}

{% macro newline() -%}
    chr(10)
{%- endmacro %}

{#- An empty list of strings, typed so that coalesce() with a string list works. -#}
{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list', 'newsroom')()) }}
{%- endmacro %}
{% macro default__empty_string_list() -%}
    cast([] as varchar[])
{%- endmacro %}
{% macro spark__empty_string_list() -%}
    cast(array() as array<string>)
{%- endmacro %}

{#- The distinct values of expr as a sorted list. -#}
{% macro agg_distinct_sorted(expr) -%}
    {{ return(adapter.dispatch('agg_distinct_sorted', 'newsroom')(expr)) }}
{%- endmacro %}
{% macro default__agg_distinct_sorted(expr) -%}
    list_sort(list(distinct {{ expr }}))
{%- endmacro %}
{% macro spark__agg_distinct_sorted(expr) -%}
    array_sort(collect_set({{ expr }}))
{%- endmacro %}
