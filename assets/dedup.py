"""Duplicate headlines and stories, stated one pair at a time: the rules, in plain Python.

The pipeline runs the same rules as SQL over all headlines (`assets/matching.py`); the tests hold the
SQL to this module (same pairs, rules, scores and groups), and `features` is what the pipeline stores.

- Identical normalised texts are linked as a chain (each to the previous one by day, within the date
  window): k - 1 pairs for k repeats instead of k², with the same groups.
- Candidates: headlines within `date_window_days` of each other that share at least one content
  word (stemmed, function words removed) that is not too common around their days: used by at most
  `max_token_df` headlines within the date window. Each headline then has a bounded number of
  candidates per word, so the work grows linearly with the corpus (a cap over the whole corpus did
  not: at 1 GB of the bench corpus the token join grew 37× for 10× the data).
- Each candidate pair is scored exactly and kept when a rule fires; the rule and score are kept.
  Duplicates (the same headline reworded): identical normalised text, the same words in another
  order, word Jaccard >= 0.7, or near-identical characters. Stories (the same event told
  differently): IDF-weighted word overlap >= 0.3 with at least two shared words.
- Guard: headlines that disagree in direction (rise / fall) or in numbers are never duplicates,
  and never one story when both carry numbers and share none.
- Groups are the connected components (union-find) of the kept pairs: duplicate groups over
  duplicate pairs, stories over both.

Thresholds and word lists live in `assets/rules/matching.yml`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from assets.normalize import content_stems, matching_rules, normalize, strip_furniture

# Numbers as written, before punctuation is dropped: "5.25%" and "5.5%", "2-0" and "5-0" differ.
_NUMBER = re.compile(r"\d+(?:[.,:/\-–]\d+)*%?")

Item = tuple[str, str, str, int]  # key, text, language, day number (for the date window)


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    relation: str  # duplicate | story
    score: float
    rule: str


@dataclass(frozen=True)
class Features:
    key: str
    normalized: str
    tokens: tuple[str, ...]
    token_set: frozenset[str]
    numbers: frozenset[str]
    direction: str | None  # up | down | None
    day: int


@cache
def _directions() -> tuple[frozenset[str], frozenset[str]]:
    rules = matching_rules()["directions"]
    return frozenset(rules["up"]), frozenset(rules["down"])


def thresholds() -> dict[str, float]:
    return matching_rules()["thresholds"]


def features(key: str, text: str, language: str, day: int = 0) -> Features:
    normalized = normalize(text)
    words = normalized.split()
    up, down = _directions()
    says_up, says_down = any(w in up for w in words), any(w in down for w in words)
    direction = "up" if says_up and not says_down else "down" if says_down and not says_up else None
    tokens = tuple(content_stems(normalized, language))
    return Features(
        key=key,
        normalized=normalized,
        tokens=tokens,
        token_set=frozenset(tokens),
        numbers=frozenset(_NUMBER.findall(strip_furniture(text))),
        direction=direction,
        day=day,
    )


@lru_cache(maxsize=100_000)
def _trigrams(normalized: str) -> frozenset[str]:
    """Character 3-grams, computed only for pairs that reach the character rule; a headline is in
    many candidate pairs, so recent results are cached (bounded: memory stays flat at any size)."""
    padded = f" {normalized} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def score_pair(x: Features, y: Features, idf: dict[str, float]) -> Pair | None:
    """The rule that links two headlines, if any (pure; the heart of matching)."""
    a, b = sorted((x.key, y.key))
    t = thresholds()
    if x.normalized == y.normalized:
        return Pair(a, b, "duplicate", 1.0, "exact_normalized")
    opposite = {x.direction, y.direction} == {"up", "down"}
    numbers_differ = x.numbers != y.numbers
    jaccard = _jaccard(x.token_set, y.token_set)
    if not opposite and not numbers_differ:
        if x.tokens and sorted(x.tokens) == sorted(y.tokens):
            return Pair(a, b, "duplicate", 1.0, "same_words_any_order")
        if jaccard >= t["duplicate_jaccard"]:
            return Pair(a, b, "duplicate", round(jaccard, 4), "word_jaccard")
        chars = _jaccard(_trigrams(x.normalized), _trigrams(y.normalized))
        if jaccard >= t["duplicate_min_jaccard_for_chars"] and chars >= t["duplicate_char_similarity"]:
            return Pair(a, b, "duplicate", round(chars, 4), "near_identical_characters")
    if opposite or (x.numbers and y.numbers and not x.numbers & y.numbers):
        return None
    shared = x.token_set & y.token_set
    if len(shared) < t["story_min_shared"]:
        return None
    weight = sum(idf.get(w, 1.0) for w in shared)
    total = sum(idf.get(w, 1.0) for w in x.token_set | y.token_set)
    weighted = weight / total if total else 0.0
    if weighted >= t["story_weighted_jaccard"]:
        return Pair(a, b, "story", round(weighted, 4), "shared_terms")
    return None


def candidate_pairs(items: Sequence[Features]) -> Iterable[tuple[int, int]]:
    """Index pairs of different texts sharing a not-too-common content word within the date window,
    and a chain through identical texts; each pair once."""
    t = thresholds()
    postings: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(items):
        for token in f.token_set:
            postings[token].append(i)
    seen: set[tuple[int, int]] = set()
    window = t["date_window_days"]
    for members in postings.values():
        if len(members) < 2:
            continue
        # rare *around its day*: used by at most max_token_df headlines within the date window, so a
        # headline has a bounded number of candidates however large the corpus grows
        per_day = Counter(items[i].day for i in members)
        rare_days = {
            d
            for d in per_day
            if sum(c for e, c in per_day.items() if abs(e - d) <= window) <= t["max_token_df"]
        }
        members = [i for i in members if items[i].day in rare_days]
        for pos, i in enumerate(members):
            for j in members[pos + 1 :]:
                if (
                    abs(items[i].day - items[j].day) <= window
                    and items[i].normalized != items[j].normalized
                    and (i, j) not in seen
                ):
                    seen.add((i, j))
                    yield i, j
    # identical texts always meet, even when all their words are too common, as a chain: each to the
    # previous one in (day, key) order when within the window. All pairs would be k² for k repeats
    # (one template headline recurs thousands of times in a gigabyte of news); the groups are the same.
    by_text: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(items):
        by_text[f.normalized].append(i)
    for members in by_text.values():
        members.sort(key=lambda i: (items[i].day, items[i].key))
        for previous, i in itertools.pairwise(members):
            if items[i].day - items[previous].day <= window:
                yield min(previous, i), max(previous, i)


def inverse_document_frequency(items: Sequence[Features]) -> dict[str, float]:
    df: dict[str, int] = defaultdict(int)
    for f in items:
        for token in f.token_set:
            df[token] += 1
    n = len(items)
    return {token: math.log((n + 1) / (count + 0.5)) for token, count in df.items()}


def match_features(feats: Sequence[Features]) -> list[Pair]:
    idf = inverse_document_frequency(feats)
    pairs = []
    for i, j in candidate_pairs(feats):
        pair = score_pair(feats[i], feats[j], idf)
        if pair:
            pairs.append(pair)
    return pairs


def match_headlines(items: Sequence[Item]) -> list[Pair]:
    return match_features([features(key, text, lang, day) for key, text, lang, day in items])


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the smallest key names the group


def group(pairs: Iterable[Pair], keys: Iterable[str]) -> dict[str, tuple[str | None, str]]:
    """key -> (duplicate group or None when alone, story id — the key itself when alone)."""
    pairs = list(pairs)
    duplicates, stories = _UnionFind(), _UnionFind()
    for p in pairs:
        stories.union(p.a, p.b)
        if p.relation == "duplicate":
            duplicates.union(p.a, p.b)
    keys = list(keys)
    sizes: dict[str, int] = defaultdict(int)
    for k in keys:
        sizes[duplicates.find(k)] += 1
    return {k: (duplicates.find(k) if sizes[duplicates.find(k)] > 1 else None, stories.find(k)) for k in keys}
