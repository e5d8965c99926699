"""Topic classification from the versioned rules in `assets/rules/topics.yml`.

Each term is stemmed like the text (Snowball per language) and matched as a run of words; a
topic's score is the sum of the weights of the distinct terms that matched. The best topic wins
(ties go to the topic listed first), topics scoring at least `secondary_ratio` of the best also
apply, and below `min_score` the text is `unclassified`. Every result keeps the terms that
matched, so any assignment can be explained.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import yaml

from assets.normalize import RULES_DIR, stem_words, words

UNCLASSIFIED = "unclassified"
ANY = "any"


@dataclass(frozen=True)
class Term:
    topic: str
    text: str  # as written in the rules
    stems: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class TopicResult:
    topic: str
    score: float
    topics: list[str]
    matched_terms: list[str] = field(default_factory=list)  # "topic:term"


@dataclass(frozen=True)
class TopicRules:
    version: str
    min_score: float
    secondary_ratio: float
    order: tuple[str, ...]
    # language -> first stem -> terms starting with it
    index: dict[str, dict[str, list[Term]]]


def rules_text() -> str:
    return (RULES_DIR / "topics.yml").read_text(encoding="utf-8")


def rules_fingerprint() -> str:
    """Changes whenever the rules file does: stored next to results so stale ones are redone."""
    return hashlib.sha256(rules_text().encode()).hexdigest()[:12]


def _parse_term(raw: str) -> tuple[str, float]:
    text, _, weight = str(raw).partition("^")
    return text.strip(), float(weight) if weight else 1.0


@cache
def load_rules() -> TopicRules:
    data: dict[str, Any] = yaml.safe_load(rules_text())
    index: dict[str, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
    for topic, by_language in data["topics"].items():
        for language, terms in by_language.items():
            for raw in terms:
                text, weight = _parse_term(raw)
                stem_language = "en" if language == ANY else language
                stems = tuple(stem_words(words(text), stem_language))
                if stems:
                    index[language][stems[0]].append(Term(topic, text, stems, weight))
    return TopicRules(
        version=f"{data['version']}+{rules_fingerprint()}",
        min_score=float(data["min_score"]),
        secondary_ratio=float(data["secondary_ratio"]),
        order=tuple(data["topics"]),
        index={lang: dict(terms) for lang, terms in index.items()},
    )


def _languages_for(language: str, rules: TopicRules) -> list[str]:
    if language in rules.index:
        return [language, ANY] if language != "en" else ["en", ANY]
    return [lang for lang in rules.index]  # unknown or `und`: every language's terms


def match_terms(text: str, language: str, rules: TopicRules | None = None) -> dict[Term, int]:
    """Every rule term found in the text, with how often it occurs. Only the text's distinct stems are
    looked up (a body repeats its words), and positions are searched only for terms of several words."""
    rules = rules or load_rules()
    found: dict[Term, int] = defaultdict(int)
    tokens = words(text)
    stemmed: dict[str, list[str]] = {}  # `any` terms are stemmed as English: stem once
    for lang in _languages_for(language, rules):
        stem_language = "en" if lang == ANY else lang
        if stem_language not in stemmed:
            stemmed[stem_language] = stem_words(tokens, stem_language)
        stems = stemmed[stem_language]
        index = rules.index.get(lang, {})
        counts = Counter(stems)
        for first in [s for s in counts if s in index]:
            for term in index[first]:
                size = len(term.stems)
                hits = counts[first] if size == 1 else sum(
                    1 for i, s in enumerate(stems) if s == first and tuple(stems[i : i + size]) == term.stems
                )  # fmt: skip
                if hits:
                    found[term] += hits
    return found


def score(found: dict[Term, float], rules: TopicRules | None = None) -> TopicResult:
    rules = rules or load_rules()
    totals: dict[str, float] = defaultdict(float)
    best_term: dict[tuple[str, str], float] = {}
    for term, count in found.items():
        key = (term.topic, " ".join(term.stems))
        # a term counts once per topic, whichever language's list it came from
        value = term.weight * count
        if value > best_term.get(key, 0):
            totals[term.topic] += value - best_term.get(key, 0)
            best_term[key] = value
    distinct = defaultdict(int)
    for topic, _ in best_term:
        distinct[topic] += 1
    # best score first; on a tie, the topic with more distinct terms, then the one listed first
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], -distinct[kv[0]], rules.order.index(kv[0])))
    if not ranked or ranked[0][1] < rules.min_score:
        return TopicResult(UNCLASSIFIED, ranked[0][1] if ranked else 0.0, [UNCLASSIFIED], [])
    best = ranked[0][1]
    topics = [t for t, s in ranked if s >= best * rules.secondary_ratio and s >= rules.min_score]
    matched = sorted({f"{t.topic}:{t.text}" for t in found if t.topic in topics})
    return TopicResult(ranked[0][0], round(best, 3), topics, matched)


@lru_cache(maxsize=1 << 14)
def classify(text: str, language: str) -> TopicResult:
    """Topic of a headline. Results are cached: the same headline recurs across files and feeds
    (12% of the bench corpus' headlines, 40% of its article titles); callers must not mutate them."""
    return score(match_terms(text, language))


def classify_article(title: str, body: str, language: str) -> TopicResult:
    """Title terms count double; a body term counts at most three times, so one word cannot win alone."""
    found: dict[Term, float] = defaultdict(float)
    for term, count in match_terms(title, language).items():
        found[term] += 2 * count
    for term, count in match_terms(body, language).items():
        found[term] += min(count, 3)
    return score(found)
