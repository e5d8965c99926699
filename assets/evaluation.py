"""Evaluation of language, topics, duplicates and stories against labelled data (`make eval`).

Two kinds of figures: the pipeline's own output on the sample gold (run end to end through
Dagster into a temporary warehouse), and the pure functions on our own labelled sets in
`tests/data/` — the English headline set split into `dev` (rules were tuned on it) and `test`
(held out, never tuned on), and the multilingual set.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assets import language, matching, topics
from orchestration.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "tests" / "data"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def split_of(text: str) -> str:
    """Deterministic split: about a third of the rows are held out as `test`."""
    return "test" if int(hashlib.md5(text.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def topic_rows(split: str | None = None) -> list[dict[str, str]]:
    """Rows of the English set; a story stays whole in one split, so its pairs can be evaluated."""
    rows = read_csv(DATA / "topic_headlines.csv")
    return [r for r in rows if split is None or split_of(r["story"] or r["text"]) == split]


def unseen_rows() -> list[dict[str, str]]:
    """Headlines written after the rules were frozen (same columns as topic_headlines.csv)."""
    path = DATA / "unseen_headlines.csv"
    return read_csv(path) if path.exists() else []


@dataclass(frozen=True)
class PairScores:
    precision: float
    recall: float
    f1: float
    predicted: int
    gold: int

    @classmethod
    def of(cls, predicted: set[frozenset[str]], gold: set[frozenset[str]]) -> PairScores:
        hit = len(predicted & gold)
        precision = hit / len(predicted) if predicted else 1.0
        recall = hit / len(gold) if gold else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, len(predicted), len(gold))


def gold_pairs(items: Iterable[tuple[str, str]]) -> set[frozenset[str]]:
    """(key, group) rows, gold or predicted -> every pair of keys that share a non-empty group."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key, group in items:
        if group:
            groups[group].append(key)
    return {frozenset(p) for members in groups.values() for p in itertools.combinations(members, 2)}


def topic_accuracy(rows: list[dict[str, str]], predicted: dict[str, str]) -> tuple[float, float]:
    """(acceptable, strict): predicted topic among the acceptable ones / equal to the preferred one."""
    acceptable = sum(predicted[r["text"]] in r["topics"].split("|") for r in rows)
    strict = sum(predicted[r["text"]] == r["topics"].split("|")[0] for r in rows)
    return acceptable / len(rows), strict / len(rows)


def evaluate_functions() -> dict[str, object]:
    """Pure functions on our own sets (no pipeline), for quick tuning and the held-out figure."""
    results: dict[str, object] = {}
    multi = read_csv(DATA / "multilingual_headlines.csv")
    alone = language.detect_raw([r["text"] for r in multi])
    results["language_alone"] = sum(
        d.language == r["language"] for d, r in zip(alone, multi, strict=True)
    ) / len(multi)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(multi):
        by_lang[r["language"]].append(i)
    in_file = [None] * len(multi)
    for idx in by_lang.values():  # each language's headlines as one file
        for i, det in zip(idx, language.detect_in_file([multi[i]["text"] for i in idx]), strict=True):
            in_file[i] = det
    results["language_in_file"] = sum(
        d.language == r["language"] for d, r in zip(in_file, multi, strict=True)
    ) / len(multi)
    predicted = {r["text"]: topics.classify(r["text"], r["language"]).topic for r in multi}
    results["topics_multilingual"] = topic_accuracy(multi, predicted)
    for split in ("dev", "test", "unseen"):
        rows = topic_rows(split) if split != "unseen" else unseen_rows()
        if not rows:
            continue
        predicted = {r["text"]: topics.classify(r["text"], "en").topic for r in rows}
        results[f"topics_{split}"] = topic_accuracy(rows, predicted)
        _, groups = matching.match_items([(r["text"], r["text"], "en", 0) for r in rows])
        # pairs within the predicted groups, as with the gold: identical headlines are linked as a
        # chain, so the listed pairs alone would miss most of a group's pairs
        dup = gold_pairs((t, d) for t, (d, _) in groups.items())
        story = gold_pairs((t, s) for t, (_, s) in groups.items())
        results[f"duplicates_{split}"] = PairScores.of(
            dup, gold_pairs((r["text"], r["duplicate_group"]) for r in rows)
        )
        results[f"stories_{split}"] = PairScores.of(story, gold_pairs((r["text"], r["story"]) for r in rows))
    return results


def evaluate_sample_warehouse(database: Path, gold_dir: Path) -> dict[str, object]:
    """The pipeline's own output for the sample files, compared with the sample gold."""
    import duckdb

    gold_headlines = read_csv(gold_dir / "headlines.csv")
    gold_articles = read_csv(gold_dir / "articles.csv")
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select f.path, h.line_no, h.headline_id, h.language, h.topic, h.story_id, h.duplicate_group_id "
            "from marts.headlines h join raw.files f using (file_id)"
        ).fetchall()
        articles = dict(
            con.execute(
                "select f.path, a.topic from marts.articles a join raw.files f using (file_id)"
            ).fetchall()
        )
    by_line = {(path, line): tuple(rest) for path, line, *rest in rows}  # id, language, topic, story, dup
    keyed = [(r, by_line[(r["file"], int(r["line_no"]))]) for r in gold_headlines]
    results: dict[str, object] = {
        "language": sum(got[1] == r["language"] for r, got in keyed) / len(keyed),
        "topics_headlines": (
            sum(got[2] in r["topics"].split("|") for r, got in keyed) / len(keyed),
            sum(got[2] == r["topics"].split("|")[0] for r, got in keyed) / len(keyed),
        ),
        "topics_articles": (
            sum(articles.get(a["file"]) in a["topics"].split("|") for a in gold_articles)
            / len(gold_articles),
            sum(articles.get(a["file"]) == a["topics"].split("|")[0] for a in gold_articles)
            / len(gold_articles),
        ),
    }
    predicted_dup = gold_pairs((got[0], got[4]) for _, got in keyed)
    predicted_story = gold_pairs((got[0], got[3]) for _, got in keyed)
    results["duplicates"] = PairScores.of(
        predicted_dup, gold_pairs((got[0], r["duplicate_group"]) for r, got in keyed)
    )
    results["stories"] = PairScores.of(predicted_story, gold_pairs((got[0], r["story"]) for r, got in keyed))
    return results


def run_sample_pipeline(workdir: Path) -> Path:
    """Materialize the whole graph on the shipped sample files into `workdir`; return the warehouse."""
    import shutil

    import dagster as dg

    from orchestration.definitions import build_defs
    from orchestration.settings import Settings

    settings = Settings(
        raw_dir=workdir / "raw", warehouse=workdir / "warehouse.duckdb", report_dir=workdir / "report"
    )
    shutil.copytree(PROJECT_ROOT / "data" / "raw", settings.raw_dir)
    result = (
        build_defs(settings)
        .resolve_job_def("newsroom_all")
        .execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    )
    assert result.success
    return settings.warehouse


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _pairs(scores: PairScores) -> str:
    return (
        f"{scores.precision:.2f} | {scores.recall:.2f} | {scores.f1:.2f} | {scores.predicted} / {scores.gold}"
    )


def render_markdown(sample: dict[str, object], own: dict[str, object], sizes: dict[str, int]) -> str:
    lines = [
        "# Evaluation",
        "",
        "Written by `make eval` (`python -m assets.evaluation`). Sample figures are the pipeline's own output",
        "(the whole graph run through Dagster on `data/raw/`) compared with `tests/data/gold/`. The other sets",
        "are ours (`tests/data/`), run through the same functions the pipeline calls (`assets/language.py`,",
        "`assets/topics.py`, `assets/matching.py`). The English set is split by story into **dev** (the rules in",
        "`assets/rules/` were tuned on it) and **test** (held out); **unseen** was written after the rules",
        "were frozen and evaluated once. The multilingual set's topic terms were written alongside it, so its",
        "topic figure is a training figure.",
        "",
        "## Language",
        "",
        "| set | rows | accuracy |",
        "|---|---:|---:|",
        f"| sample headlines (pipeline) | {sizes['sample']} | {_pct(sample['language'])} |",
        f"| multilingual, each headline alone | {sizes['multilingual']} | {_pct(own['language_alone'])} |",
        f"| multilingual, grouped by language as files (file tie-breaker) | {sizes['multilingual']} | {_pct(own['language_in_file'])} |",
        "",
        "## Topics (predicted topic among the acceptable ones / equal to the preferred one)",
        "",
        "| set | rows | acceptable | strict |",
        "|---|---:|---:|---:|",
        f"| sample headlines (pipeline) | {sizes['sample']} | {_pct(sample['topics_headlines'][0])} | {_pct(sample['topics_headlines'][1])} |",
        f"| sample articles (pipeline) | {sizes['sample_articles']} | {_pct(sample['topics_articles'][0])} | {_pct(sample['topics_articles'][1])} |",
    ]
    for split in ("dev", "test", "unseen"):
        if f"topics_{split}" in own:
            acc, strict = own[f"topics_{split}"]
            lines.append(f"| own English, {split} | {sizes[split]} | {_pct(acc)} | {_pct(strict)} |")
    acc, strict = own["topics_multilingual"]
    lines += [
        f"| own multilingual (10 languages) | {sizes['multilingual']} | {_pct(acc)} | {_pct(strict)} |",
        "",
        "## Duplicates and stories (pairs of headlines)",
        "",
        "| set | relation | precision | recall | F1 | predicted / gold pairs |",
        "|---|---|---:|---:|---:|---:|",
        f"| sample (pipeline) | duplicate | {_pairs(sample['duplicates'])} |",
        f"| sample (pipeline) | story | {_pairs(sample['stories'])} |",
    ]
    for split in ("dev", "test", "unseen"):
        if f"duplicates_{split}" in own:
            lines.append(f"| own English, {split} | duplicate | {_pairs(own[f'duplicates_{split}'])} |")
            lines.append(f"| own English, {split} | story | {_pairs(own[f'stories_{split}'])} |")
    lines += [
        "",
        "## Reading these figures",
        "",
        "- Topic rules are term lists. They reach the bars on the sample and ~96% on our dev and held-out",
        "  test splits, but on headlines written after the lists were frozen (unseen) they drop to the",
        "  figure above: vocabulary the lists have never seen leaves a headline `unclassified` or lets a",
        "  generic word win. More terms help only until the next unseen word; a classifier that ships in a",
        "  pip package is the next step (the rules file stays the explanation layer).",
        "- Language: short headlines alone are often ambiguous for any detector; inside a file, the file's",
        "  dominant language breaks the tie, which is how the pipeline runs.",
        '- Duplicates are tuned for precision (1.0 everywhere); rewordings with synonyms ("Fed" /',
        '  "Federal Reserve", "holds" / "keeps") are found as the same story, not as duplicates.',
        '  Story recall is limited by paraphrases that need world knowledge ("quake" / "earthquake",',
        '  "hostages freed" / "truce deal"); lowering the threshold trades precision for it (0.25: dev',
        "  precision 0.92; 0.2: 0.86).",
        "",
        "Bars (tests fail below them): sample headline topics ≥ 90% and both articles; duplicate pairs",
        "precision 1.0 and recall ≥ 0.9, story pairs precision ≥ 0.9 and recall ≥ 0.6, on the sample gold;",
        "floors on our own sets in `tests/test_text_analysis.py`.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        warehouse = run_sample_pipeline(Path(tmp))
        sample = evaluate_sample_warehouse(warehouse, DATA / "gold")
    own = evaluate_functions()
    sizes = {
        "sample": len(read_csv(DATA / "gold" / "headlines.csv")),
        "sample_articles": len(read_csv(DATA / "gold" / "articles.csv")),
        "multilingual": len(read_csv(DATA / "multilingual_headlines.csv")),
        "dev": len(topic_rows("dev")),
        "test": len(topic_rows("test")),
    }
    if (DATA / "unseen_headlines.csv").exists():
        sizes["unseen"] = len(read_csv(DATA / "unseen_headlines.csv"))
    text = render_markdown(sample, own, sizes)
    out = PROJECT_ROOT / "docs" / "evaluation.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {out.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
