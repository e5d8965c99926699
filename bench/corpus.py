"""A deterministic news corpus of a chosen size, in every shape the pipeline reads.

Headline lists (dash-separated and bare), article pages (title, paragraphs, short section headings,
page furniture, inline "(Source: ...)" credits, related headlines), five languages, a few legacy
encodings, and realistic repetition: exact repeats, reworded duplicates and other angles on the same
story. Same seed and size, same bytes.

    python -m bench.corpus OUT_DIR --size 100MB [--seed 7]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

import yaml

#: Per language: subjects, verbs, objects, tails, function words and words, page furniture and
#: headings; enough to read as that language to a detector and to hit the topic rules.
VOCAB: dict[str, dict[str, list[str]]] = yaml.safe_load(
    (Path(__file__).with_name("vocabulary.yml")).read_text(encoding="utf-8")
)
LANGUAGE_WEIGHTS = {"en": 0.6, "de": 0.1, "fr": 0.1, "es": 0.1, "it": 0.1}
SOURCES = ["TASS", "Reuters", "AFP", "AP", "dpa", "EFE", "ANSA"]
PREFIXES = ["LIVE: ", "BREAKING: ", "UPDATE 2-"]
SYLLABLES = [
    "ka",
    "lo",
    "mer",
    "vin",
    "sa",
    "tor",
    "el",
    "bra",
    "di",
    "nu",
    "ost",
    "ra",
    "pel",
    "quin",
    "zo",
    "har",
    "mi",
    "len",
    "cas",
    "tu",
    "bel",
    "dor",
    "fi",
    "gan",
    "ish",
    "jor",
    "ke",
    "lum",
    "mon",
    "ver",
]

#: Shares of headlines that repeat an earlier one exactly, reword it, or tell its story another way.
EXACT_RATE, REWORD_RATE, STORY_RATE = 0.10, 0.08, 0.07


@dataclass(frozen=True)
class CorpusStats:
    files: int
    bytes: int
    headlines: int
    articles: int


def parse_size(text: str) -> int:
    """'100MB' -> 104857600; plain numbers are bytes."""
    units = {"KB": 1024, "MB": 1024**2, "GB": 1024**3, "B": 1}
    text = text.strip().upper()
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.history: dict[str, list[tuple[str, str, str, str]]] = {lang: [] for lang in VOCAB}

    def _name(self) -> str:
        """A made-up place name (about 27,000 of them), so that new headlines are really new."""
        return "".join(self.rng.choice(SYLLABLES) for _ in range(3)).capitalize()

    def _parts(self, language: str) -> tuple[str, str, str, str]:
        v = VOCAB[language]
        subject, verb, obj, tail = (self.rng.choice(v[k]) for k in ("subject", "verb", "object", "tail"))
        return (
            f"{subject} {self._name()}" if self.rng.random() < 0.5 else subject,
            verb,
            f"{obj} {self._name()}",
            tail,
        )

    def headline(self, language: str) -> str:
        """A new headline, or (at the set rates) an echo of an earlier one."""
        roll = self.rng.random()
        seen = self.history[language]
        if seen and roll < EXACT_RATE + REWORD_RATE + STORY_RATE:
            # echoes come from recent news (the last 5,000 headlines of the language)
            subject, verb, obj, tail = seen[self.rng.randrange(max(0, len(seen) - 5000), len(seen))]
            if roll < EXACT_RATE:
                return f"{subject} {verb} {obj} {tail}"
            if roll < EXACT_RATE + REWORD_RATE:  # reworded: other order, a prefix, or no tail
                form = self.rng.randrange(3)
                if form == 0:
                    return f"{self.rng.choice(PREFIXES)}{subject} {verb} {obj} {tail}"
                if form == 1:
                    return f"{subject} {verb} {obj}"
                return f"{tail[0].upper()}{tail[1:]}, {subject.lower()} {verb} {obj}"
            other = VOCAB[language]["tail"]
            return f"{subject} {verb} {obj} {self.rng.choice(other)}"  # same event, other angle
        parts = self._parts(language)
        seen.append(parts)
        return " ".join(parts)

    def sentence(self, language: str, credit: bool) -> str:
        v = VOCAB[language]
        words = [
            self.rng.choice(v["function"] if self.rng.random() < 0.45 else v["word"])
            for _ in range(self.rng.randint(12, 24))
        ]
        text = " ".join(words)
        text = text[0].upper() + text[1:] + "."
        if credit:
            text = text[:-1] + f" (Source: {self.rng.choice(SOURCES)})."
        return text

    def headline_list(self, language: str, count: int, dashed: bool) -> tuple[str, int]:
        items = [self.headline(language) for _ in range(count)]
        if dashed:
            return "".join(f"-\n{item}\n" for item in items), count
        return "\n".join(items) + "\n", count

    def article(self, language: str) -> tuple[str, int]:
        v = VOCAB[language]
        lines = [self.headline(language), "", v["furniture"][0]]
        if language == "en":
            lines.append(v["furniture"][1])
        lines.append("")
        for section in range(self.rng.randint(2, 5)):
            if section:
                lines += [self.rng.choice(v["heading"]), ""]
            for _ in range(self.rng.randint(1, 3)):
                sentences = [
                    self.sentence(language, self.rng.random() < 0.1) for _ in range(self.rng.randint(3, 6))
                ]
                lines += [" ".join(sentences), ""]
        lines += [self.rng.choice(v["furniture"][1:]), ""]
        related = [self.headline(language) for _ in range(self.rng.randint(1, 3))]
        for item in related:
            lines += [item, ""]
        return "\n".join(lines), len(related)


def generate(out_dir: Path, size: int, seed: int = 7) -> CorpusStats:
    """Write files under out_dir until `size` bytes are written (the last file may pass it a little)."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    languages, weights = zip(*LANGUAGE_WEIGHTS.items(), strict=True)
    written = files = headlines = articles = 0
    while written < size:
        language = rng.choices(languages, weights)[0]
        kind = rng.random()
        if kind < 0.55:
            text, count = writer.headline_list(language, rng.randint(150, 900), dashed=rng.random() < 0.6)
            headlines += count
        else:  # an article page; several per file, as when a desk saves a batch
            pages = [writer.article(language) for _ in range(rng.randint(20, 60))]
            text = "\n\n".join(page for page, _ in pages)
            headlines += sum(count for _, count in pages)
            articles += len(pages)
        encoding = "utf-8"
        roll = rng.random()
        if roll < 0.03 and language != "en":
            encoding = "cp1252"
        elif roll < 0.05:
            encoding = "utf-16"
        data = text.encode(encoding, errors="replace")
        folder = out_dir / f"date=2026-10-{1 + files % 28:02d}"  # dated landing folders, as desks use
        folder.mkdir(exist_ok=True)
        (folder / f"desk_{files:06d}_{language}.txt").write_bytes(data)
        written += len(data)
        files += 1
    return CorpusStats(files, written, headlines, articles)


def one_file(path: Path, size: int, seed: int, language: str = "en") -> int:
    """One file of article pages of about `size` bytes (a desk saving a big batch at once): the new
    file of the benchmark's incremental run. Returns the number of bytes written."""
    writer = _Writer(random.Random(seed))
    pages: list[str] = []
    written = 0
    while written < size:
        page, _ = writer.article(language)
        pages.append(page)
        written += len(page.encode("utf-8")) + 2
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "\n\n".join(pages).encode("utf-8")
    path.write_bytes(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--size", default="10MB")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    stats = generate(args.out_dir, parse_size(args.size), args.seed)
    print(
        f"{stats.files} files, {stats.bytes / 1024**2:.1f} MB, {stats.headlines} headlines, {stats.articles} articles"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
