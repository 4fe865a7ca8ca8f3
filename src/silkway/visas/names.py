"""Matching a traveller's names against the shared alert list, across transliteration systems and typos.

The state that entered an alert wrote the name in its own script or romanisation; the applicant gives the
MRZ name and perhaps the name in the native script. One person can be Yusupov, Iusupov (ICAO), Ioussoupov
(French) and Юсупов; Khodjaev, Hojaev, Xoʻjayev (Uzbek Latin) and Ходжаев. A consular officer must see the
hit all the same, and must not be buried in hits on other people.

Keys (`name_key`). A name is first brought to MRZ letters with `mrz.transliterate`, after a few Latin letters
whose ICAO form loses a sound other spellings keep are read as the region reads them: Ş Š → SH, Ç Č → CH,
Ž → ZH, Ä Ö Ü → A O U (Turkic vowels; ICAO's AE OE UE would set Şöhrat apart from Шухрат), and Cyrillic Ў →
O (Uzbek Oʻ; ICAO's U is Belarusian). Then, in each name part and in this order:

    ================ ====== =========================================================================
    spellings        key    why
    ================ ====== =========================================================================
    SHCH SCH         SH     Щ: ICAO SHCH, German SCH; Щербаков / Scherbakov
    TSCH TCH         CH     Ч in German and French: Tschaikowski, Tchaikovsky
    TC               TS     Ц in Russian passports of 2010-2014 (TCAPLIN)
    DZH DJ ZH        J      Ж, ДЖ, Ҷ: Zhanna / Janna, Khodjaev / Hojaev, Dzhaparov / Japarov
    KH X             H      Х: ICAO KH, Uzbek Latin X, Turkic and Tajik H (Ҳ)
    GH               G      Ғ: BGN/PCGN GH, ICAO G
    Q                K      Қ: Uzbek Latin Q, ICAO K
    W                V      German and Turkmen W for В: Berdimuhamedow
    PH               F      Sophia / Sofia
    OU               U      French: Ioussoupov
    Y                I      Й, Ы and the glide of Я Ю Е Ё: Chaykovskiy / Chaikovskii, Chyngyz / Chingiz
    double letters   one    Ioussoupov's SS, Aliyev's II (after the step above), Zhanna's NN
    IE               E      after a vowel or starting a part: Jurayeva / Juraeva, Yerzhan / Erzhan
    ================ ====== =========================================================================

Not folded, on purpose: J with Y or I (Jurayev and Yuraev are different names: J is the ДЖ class here),
AE OE UE with A O U (Juraev's AE is two sounds), S with SH, O with U, C with K or J. What the keys leave
apart, the edit distance weighs: a vowel for a vowel costs half (Shuhrat / Shohrat, Rustam / Rustem,
Muhammad / Muhammed), anything else one.

Scores (`similarity`). Each name is split into parts; the parts of the name with fewer of them are paired
with distinct parts of the other, in whatever order pairs them best (Aliyev Rustam = Rustam Aliyev), and
the parts left over are ignored (a missing patronymic or middle name). A pair scores 1 - d / n, d the
Damerau-Levenshtein distance of the keys (optimal string alignment, costs above), n the longer key's
length; the name scores as its worst pair, since one clearly different part (Ivanov / Petrov) means a
different person however well the rest agrees. In the name with more parts, two neighbours are also tried
written as one (Abdul Aziz / Abdulaziz). A name of one part against a name of several has its score
multiplied by 0.85: one part is weak evidence, so it is a hit only when it agrees exactly.

Threshold (`MATCH_THRESHOLD` = 0.8), calibrated on the cases in tests/unit/test_visa_names.py. Every
transliteration pair above keys equal or within a vowel; one wrong letter (or two swapped) in a part of five
letters or more is a hit (Rustam / Rustan 0.83), and so is a wrong vowel in a part of three or more; two wrong
consonants need a part of ten letters. Aliyev against Alimov is *not* a hit: the keys ALIEV and ALIMOV
differ by an inserted consonant and a changed vowel (0.75) — another family name, not a typo. Ivanov
against Petrov scores 0.33, and with it Ivanov Ivan against Petrov Ivan.

Dates of birth (`match_person`) agree when they are equal, when the alert has none, when day and month
are swapped (the US and European orders confused), or in the same year with the same month or the same
day (one of them mistyped) — the typing errors that alert-list searches such as the Schengen Information
System's allow for. Other years never agree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from silkway.shared.errors import InvalidInput
from silkway.visas.mrz import NoMrzForm, transliterate

MATCH_THRESHOLD = 0.8
SINGLE_PART_WEIGHT = 0.85

_VOWELS = frozenset("AEIOU")

_REGIONAL_READING = str.maketrans(
    {
        "Ş": "SH",
        "ş": "sh",
        "Š": "SH",
        "š": "sh",
        "Ç": "CH",
        "ç": "ch",
        "Č": "CH",
        "č": "ch",
        "Ž": "ZH",
        "ž": "zh",
        "Ä": "A",
        "ä": "a",
        "Ö": "O",
        "ö": "o",
        "Ü": "U",
        "ü": "u",
        "Ў": "O",
        "ў": "o",
    }
)

# Applied in order; each pair rewrites every occurrence in a name part.
_FOLDS = (
    ("SHCH", "SH"),
    ("TSCH", "CH"),
    ("SCH", "SH"),
    ("TCH", "CH"),
    ("TC", "TS"),
    ("DZH", "J"),
    ("DJ", "J"),
    ("ZH", "J"),
    ("KH", "H"),
    ("X", "H"),
    ("GH", "G"),
    ("Q", "K"),
    ("W", "V"),
    ("PH", "F"),
    ("OU", "U"),
    ("Y", "I"),
)


def name_key(text: str) -> str:
    """The key `similarity` compares: `text` transliterated, read as described in the module docstring.

    Upper-case A-Z parts separated by single spaces, in the order written; equal for the spellings of one
    name in the systems listed there. Raises `NoMrzForm` when `text` has no MRZ form (another script,
    digits, no letter).
    """
    regional = unicodedata.normalize("NFC", text).translate(_REGIONAL_READING)
    return " ".join(_fold(part) for part in transliterate(regional).split(" "))


def _fold(part: str) -> str:
    for spelling, key in _FOLDS:
        part = part.replace(spelling, key)
    part = _single_letters(part)
    kept: list[str] = []
    for index, char in enumerate(part):
        # IE for Е after a vowel or at the start (YE, IE) is the E that ICAO and Russian spell E.
        if char == "I" and part[index + 1 : index + 2] == "E" and (index == 0 or part[index - 1] in _VOWELS):
            continue
        kept.append(char)
    return _single_letters("".join(kept))


def _single_letters(part: str) -> str:
    return "".join(char for index, char in enumerate(part) if index == 0 or part[index - 1] != char)


def _part_similarity(a: str, b: str) -> float:
    """1 - d / n for two keys of name parts: d their optimal-string-alignment distance where a vowel
    replacing a vowel costs 0.5 and any other edit or transposition 1, n the longer length.

    In [0, 1], symmetric, 1.0 exactly when the keys are equal. Both must be non-empty (`ValueError`).
    """
    if not a or not b:
        raise ValueError("name parts are never empty")
    if a == b:
        return 1.0
    return max(0.0, 1.0 - _distance(a, b) / max(len(a), len(b)))


def _distance(a: str, b: str) -> float:
    previous2: list[float] = []
    previous = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        current = [float(i)] + [0.0] * len(b)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                substitution = 0.0
            elif a[i - 1] in _VOWELS and b[j - 1] in _VOWELS:
                substitution = 0.5
            else:
                substitution = 1.0
            current[j] = min(previous[j] + 1.0, current[j - 1] + 1.0, previous[j - 1] + substitution)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1.0)
        previous2, previous = previous, current
    return previous[len(b)]


def similarity(a: str, b: str) -> float:
    """How alike two full names are, in [0, 1], from their keys (`name_key`) as the module docstring says:
    the worst pair of parts under the best pairing, parts in any order, leftover parts ignored.

    Symmetric; 1.0 for names with equal keys (identical names among them). Raises `NoMrzForm` when either
    name has no MRZ form.
    """
    return _key_similarity(name_key(a).split(" "), name_key(b).split(" "))


def _key_similarity(a: list[str], b: list[str]) -> float:
    # Only the name with more parts is joined: joining the other would let it leave a part over, and
    # Ivanov Ivan Sergeevich against Petrov Ivan Sergeevich would pair IVANSERGEVICH with SERGEVICH and
    # drop PETROV as if it were a missing middle name.
    pairings = [(a, b)]
    if len(a) > len(b):
        pairings += [(joined, b) for joined in _joinings(a)]
    elif len(b) > len(a):
        pairings += [(a, joined) for joined in _joinings(b)]
    best = 0.0
    for left, right in pairings:
        score = _bottleneck(left, right)
        if min(len(left), len(right)) == 1 and max(len(left), len(right)) > 1:
            score *= SINGLE_PART_WEIGHT
        best = max(best, score)
    return best


def _joinings(parts: list[str]) -> list[list[str]]:
    """The parts with two neighbours written as one (Abdul Aziz → Abdulaziz), for each pair of neighbours."""
    return [[*parts[:i], parts[i] + parts[i + 1], *parts[i + 2 :]] for i in range(len(parts) - 1)]


def _bottleneck(a: list[str], b: list[str]) -> float:
    """The highest s such that every part of the shorter list pairs with its own part of the other at >= s."""
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    scores = [[_part_similarity(x, y) for y in longer] for x in shorter]
    for level in sorted({s for row in scores for s in row}, reverse=True):
        if _pairs_everyone(scores, level):
            return level
    return 0.0  # pragma: no cover - the lowest score present always allows some full pairing


def _pairs_everyone(scores: list[list[float]], level: float) -> bool:
    """Whether each row gets a column of its own with score >= level (Kuhn's augmenting paths)."""
    owner: dict[int, int] = {}

    def place(row: int, seen: set[int]) -> bool:
        for column, score in enumerate(scores[row]):
            if score >= level and column not in seen:
                seen.add(column)
                if column not in owner or place(owner[column], seen):
                    owner[column] = row
                    return True
        return False

    return all(place(row, set()) for row in range(len(scores)))


class BirthAgreement(StrEnum):
    """Why two dates of birth are taken to be the same person's."""

    EQUAL = "equal"
    NOT_IN_ALERT = "not_in_alert"
    DAY_AND_MONTH_SWAPPED = "day_and_month_swapped"
    SAME_YEAR_AND_MONTH = "same_year_and_month"
    SAME_YEAR_AND_DAY = "same_year_and_day"


def birth_agreement(candidate: date, alert: date | None) -> BirthAgreement | None:
    """The rule under which `alert` (a date of birth in an alert, or None) agrees with `candidate`, or None
    when they cannot be the same person's. See the module docstring."""
    if alert is None:
        return BirthAgreement.NOT_IN_ALERT
    if candidate == alert:
        return BirthAgreement.EQUAL
    if candidate.year != alert.year:
        return None
    if (candidate.month, candidate.day) == (alert.day, alert.month):
        return BirthAgreement.DAY_AND_MONTH_SWAPPED
    if candidate.month == alert.month:
        return BirthAgreement.SAME_YEAR_AND_MONTH
    if candidate.day == alert.day:
        return BirthAgreement.SAME_YEAR_AND_DAY
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertMatch:
    """A hit: the candidate's name that matched (`matched_on`, as given), its `score` in [threshold, 1],
    and the rule under which the dates of birth agree."""

    score: float
    matched_on: str
    birth: BirthAgreement


def match_person(
    *,
    candidate_names: Sequence[str],
    candidate_birth: date,
    alert_name: str,
    alert_birth: date | None,
    threshold: float = MATCH_THRESHOLD,
) -> AlertMatch | None:
    """The hit of a candidate (their MRZ name, native-script name, ...) on one alert, or None.

    A hit needs both: some candidate name with `similarity` >= `threshold` to `alert_name` (the best one is
    reported), and dates of birth that agree (`birth_agreement`). Candidate names without an MRZ form are
    skipped, as long as one has one.

    Raises `NoMrzForm` when the alert's name, or every candidate name, has no MRZ form — a hit must never
    be missed silently — and `InvalidInput` when no candidate name is given; `ValueError` when `threshold`
    is not in (0, 1].
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError("the threshold is a score in (0, 1]")
    if not candidate_names:
        raise InvalidInput("a candidate needs at least one name", fields={"candidate_names": "empty"})
    alert_key = name_key(alert_name).split(" ")
    best: tuple[float, str] | None = None
    failures: list[str] = []
    for name in candidate_names:
        try:
            key = name_key(name).split(" ")
        except NoMrzForm as error:
            failures.append(error.detail)
            continue
        score = _key_similarity(key, alert_key)
        if best is None or score > best[0]:
            best = (score, name)
    if best is None:
        raise NoMrzForm("; ".join(failures), fields={"candidate_names": "no name has an MRZ form"})
    agreement = birth_agreement(candidate_birth, alert_birth)
    if agreement is None or best[0] < threshold:
        return None
    return AlertMatch(score=best[0], matched_on=best[1], birth=agreement)
