-- Queries for analysts, on the analyst copy: `make sql`, or
--   .venv/bin/python -m orchestration.sql -f docs/queries.sql
-- Every query here is run by tests/test_queries.py on a freshly built warehouse. "Today" is the
-- newest load day in the warehouse, so the queries also work on yesterday's copy.
-- Each query starts with a `-- name:` line; `-- may be empty` marks one that can rightly return nothing.

-- name: top stories today
-- The day's biggest stories: how often each was told, in how many files, and in which languages.
select s.canonical_headline, s.headline_count, s.distinct_headlines, s.distinct_files, s.topic, s.languages
from marts.stories s
where cast(s.last_seen as date) = (select max(load_date) from marts.headlines)
order by s.headline_count desc, s.distinct_files desc, s.first_seen
limit 10;

-- name: coverage share by topic over time
-- Raw share (every row) against de-duplicated share (each story once): echoes inflate the first.
select day, topic,
       sum(headline_rows) as headline_rows,
       sum(distinct_stories) as stories,
       round(sum(headline_share), 3) as raw_share,
       round(sum(story_share), 3) as story_share
from marts.topic_counts
group by day, topic
order by day desc, stories desc, topic;

-- name: duplicate echo per story
-- How many times each story was repeated word for word or reworded: a high echo is one event told many times.
select s.canonical_headline, s.headline_count, s.distinct_headlines,
       s.headline_count - s.distinct_headlines as exact_repeats,
       count(distinct h.duplicate_group_id) as reworded_groups,
       round(s.headline_count / s.distinct_files, 2) as headlines_per_file
from marts.stories s
join marts.headlines h on h.story_id = s.story_id
where s.headline_count > 1
group by s.story_id, s.canonical_headline, s.headline_count, s.distinct_headlines, s.distinct_files
order by s.headline_count desc
limit 20;

-- name: files with high boilerplate
-- Files where page furniture (navigation, "No time to read?", share buttons) takes a large share of lines.
select file_path, load_date, lines, boilerplate_lines, round(boilerplate_rate, 3) as boilerplate_rate, language_mix
from marts.file_quality
where boilerplate_rate > 0
order by boilerplate_rate desc, lines desc
limit 20;

-- name: quality failures this week
-- may be empty
-- Every expectation that failed in the last 7 days, newest first, with what was observed.
select validated_at, stage, table_name, expectation, description, observed_value, unexpected_count, examples
from quality.validation_results
where not success and validated_at >= current_timestamp - interval 7 day
order by validated_at desc;

-- name: gate pass rate per run
-- The trend behind the quality report: share of expectations passed in each run.
select run_id, min(validated_at) as validated_at, count(*) as expectations,
       count(*) filter (where success) as passed,
       round(count(*) filter (where success) / count(*), 3) as pass_rate
from quality.validation_results
group by run_id
order by validated_at desc;

-- name: headlines per language
-- What share of headlines each language has, and how sure the detector was.
select language, count(*) as headlines, round(count(*) / sum(count(*)) over (), 3) as share,
       round(avg(language_confidence), 3) as mean_confidence
from marts.headlines
group by language
order by headlines desc;

-- name: unclassified headlines
-- may be empty
-- Headlines no topic rule matched: where the topic rules (assets/rules/topics.yml) need new terms.
select h.language, h.text, f.path
from marts.headlines h join raw.files f using (file_id)
where h.topic = 'unclassified'
order by h.language, h.text
limit 50;

-- name: articles and who they cite
-- Articles by length, with their section headings and the sources credited inline ("(Source: TASS)").
select title, language, topic, paragraph_count, word_count,
       len(section_headings) as headings, sources_cited
from marts.articles
order by word_count desc
limit 20;

-- name: reworded duplicates
-- Pairs the matcher linked as the same headline in other words, with the rule and score: check it here.
select relation, rule, round(score, 3) as score, text_a, text_b
from marts.headline_pairs
where relation = 'duplicate'
order by score, text_a
limit 30;

-- name: files rejected or not read
-- may be empty
-- Files the loader refused (binary, undecodable) and paths it did not read (symlinks out, unreadable).
select path, status, reason, loaded_at as seen_at from raw.files where status = 'rejected'
union all
select path, 'not read' as status, reason, seen_at from raw.rejected_paths
order by seen_at desc;

-- name: role mix per file
-- How the line classifier split each file, and which rule decided how many lines.
select f.path, r.role, r.rule, count(*) as lines
from marts.line_roles r join raw.files f using (file_id)
group by f.path, r.role, r.rule
order by f.path, lines desc;
