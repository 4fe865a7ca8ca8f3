"""The machine-readable zone of the Commonwealth Visa sticker: ICAO Doc 9303 Part 7, format A (MRV-A).

The zone is two lines of 44 characters from ``A-Z 0-9 <`` (Doc 9303 Part 3 §4.3):

    V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<      document code, issuing State, name (39)
    L898902C<3UTO6908061F9406236ZE184226B<<<<<<<      number, check, nationality, birth, check, sex,
                                                      valid until, check, optional data (16)

(the specimen of Part 7 Appendix B). Check digits are Part 3 §4.9's 7-3-1 sum modulo 10; unlike the
passport's TD3 zone, the MRV-A has no composite check digit (Part 7 §4.2.2.2).

Names. Part 3 §4.6 writes the primary identifier (surname), ``<<``, then the secondary identifier (given
names), components separated by ``<``; an apostrophe is dropped and the parts joined (D'ARTAGNAN →
DARTAGNAN), a hyphen or a comma between components becomes one filler (MARIE-ELISE → MARIE<ELISE), any
other punctuation is dropped. Digits are not allowed in names (§4.6), so a name with a digit has no MRZ form.

Transliteration. Latin letters follow Part 3 §6 A: where ICAO offers a choice the first recommendation is
taken (Ä → AE, Å → AA, Ö → OE, Ü → UE, Ñ → N), the table's other letters lose their diacritic, and a Latin
letter the table does not list loses its combining marks too (Ṣ → S). Cyrillic follows Part 3 §6 B, the
unqualified column: Ж ZH, Х KH, Ц TS, Ч CH, Ш SH, Щ SHCH, Ы Y, Ъ IE, Э E, Ю IU, Я IA, Й I, Ё E, Є IE, Ї I,
І I, Ґ G, Ў U, Ғ G; Ь has no row and is dropped. ICAO qualifies some rows by language (Ukrainian and
Belarusian Г → H, Ukrainian И → Y, Belarusian Ё → IO, Ukrainian initial Й Ю Я → Y YU YA). Those letters
are shared with Russian and the script does not tell the language, so the unqualified rows apply; for a
Ukrainian or Belarusian passport holder, pass the Latin name from the passport's own MRZ. Є and Ї are
Ukrainian only, so their "first character" exception does apply: YE and YI at the start of a component.

Letters ICAO gives no row for, or a row no language of the region reads that way:

    ====== ================================ ======= ===============================================
    letter used in                          MRZ     source
    ====== ================================ ======= ===============================================
    Ә ә    Kazakh                           A       (1)
    Ɵ ɵ    Kazakh and Tatar Latin (Yañalif) O       (1), as Ө
    Ə ə    Azerbaijani (Latin)              A       (1); the usual spelling: ƏLİYEV → ALIYEV
    Қ қ    Kazakh, Tajik, Uzbek Cyrillic    K       (1)
    Ң ң    Kazakh, Kyrgyz                   N       (1)
    Ө ө    Kazakh, Kyrgyz                   O       (1)
    Ұ ұ    Kazakh                           U       (1)
    Ү ү    Kazakh, Kyrgyz                   U       (1)
    Ӣ ӣ    Tajik                            I       (1); BGN/PCGN 1994 Tajik: í
    Ӯ ӯ    Tajik                            U       BGN/PCGN 1994 Tajik: ŭ, without its breve
    Ҳ ҳ    Tajik, Uzbek Cyrillic            H       BGN/PCGN 1994 Tajik: h; Uzbek Latin H. Not KH:
                                                    the letter exists to differ from Х (KH)
    Ҷ ҷ    Tajik                            J       BGN/PCGN 1994 Tajik: j (the sound of ДЖ)
    Һ һ    Kazakh                           H       BGN/PCGN 1979 Kazakh: h. ICAO's row 04BA says C,
                                                    which no language using the letter reads
    ====== ================================ ======= ===============================================

(1) The ICAO table as extended for the documents of the CIS by Russian carriers' booking rules (published
e.g. on booking sites' help pages as "Таблица транслитерации кириллических знаков"): each added letter is
written as the letter it adds a mark to — as ICAO itself does for Latin diacritics.

Ў is ICAO's U (Belarusian); in Uzbek Cyrillic it is Latin Oʻ, which an Uzbek passport writes O. Uzbek Latin
Oʻ and Gʻ (with ʻ, ', ’ or `) lose the mark as an apostrophe: OʻTKIR → OTKIR. Turkmen Ä Ç Ň Ö Ş Ü Ý Ž and
Azerbaijani Ç Ğ I İ ı Ö Ş Ü are in ICAO's Latin table (Ş → S, Ç → C, Ü → UE, ...).

Truncation of a name longer than the field (Part 7 §4.2.2.1 and the examples of §4.2.3): see `name_field`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, NoReturn

from silkway.shared.errors import InvalidInput

FILLER = "<"
LINE_LENGTH = 44
NAME_WIDTH = 39
OPTIONAL_DATA_WIDTH = 16
VISA_NUMBER_WIDTH = 9

Sex = Literal["M", "F", "X"]


class NoMrzForm(InvalidInput):
    """A name that cannot be written with the MRZ's letters: another script, digits, symbols, or no letter."""

    code = "no_mrz_form"
    title = "The name cannot be written in the machine-readable zone"


class MalformedMrz(InvalidInput):
    """Two lines that are not an MRV-A zone: wrong length or characters, a bad date, or a wrong check digit."""

    code = "malformed_mrz"
    title = "Malformed machine-readable zone"


_WEIGHTS = (7, 3, 1)


def check_digit(field: str) -> str:
    """The Doc 9303 Part 3 §4.9 check digit of `field`: digits count as themselves, A-Z as 10-35, '<' as 0,
    weighted 7, 3, 1, 7, 3, 1, ... and summed modulo 10.

    Raises `ValueError` for any other character (lower case included: the MRZ has none).
    """
    total = 0
    for position, char in enumerate(field):
        if "0" <= char <= "9":
            value = ord(char) - ord("0")
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        elif char == FILLER:
            value = 0
        else:
            raise ValueError(f"{char!r} at position {position} is not an MRZ character")
        total += value * _WEIGHTS[position % 3]
    return str(total % 10)


# Part 3 §6 A rows that are not "drop the diacritic", plus letters NFD cannot take apart (Ł, Ø, ı, ...).
_LATIN = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ñ": "N",
    "Ö": "OE",
    "Ø": "OE",
    "Ü": "UE",
    "Þ": "TH",
    "Ð": "D",
    "Đ": "D",
    "Ħ": "H",
    "Ĳ": "IJ",
    "Ŀ": "L",
    "Ł": "L",
    "Ŋ": "N",
    "Œ": "OE",
    "Ŧ": "T",
    "ẞ": "SS",
    "Ə": "A",
    "Ɵ": "O",
}

# Part 3 §6 B, unqualified column, then the letters of the region it lacks (see the module docstring).
_CYRILLIC = {
    "А": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Д": "D",
    "Е": "E",
    "Ё": "E",
    "Ж": "ZH",
    "З": "Z",
    "И": "I",
    "Й": "I",
    "К": "K",
    "Л": "L",
    "М": "M",
    "Н": "N",
    "О": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "У": "U",
    "Ф": "F",
    "Х": "KH",
    "Ц": "TS",
    "Ч": "CH",
    "Ш": "SH",
    "Щ": "SHCH",
    "Ъ": "IE",
    "Ы": "Y",
    "Ь": "",
    "Э": "E",
    "Ю": "IU",
    "Я": "IA",
    "Є": "IE",
    "І": "I",
    "Ї": "I",
    "Ґ": "G",
    "Ў": "U",
    "Ђ": "D",
    "Ѓ": "G",
    "Ѕ": "DZ",
    "Ј": "J",
    "Љ": "LJ",
    "Њ": "NJ",
    "Ќ": "K",
    "Џ": "DZ",
    "Ѫ": "U",
    "Ѵ": "Y",
    "Ғ": "G",
    "Ә": "A",
    "Қ": "K",
    "Ң": "N",
    "Ө": "O",
    "Ұ": "U",
    "Ү": "U",
    "Һ": "H",
    "Ӣ": "I",
    "Ӯ": "U",
    "Ҳ": "H",
    "Ҷ": "J",
}

# Ukrainian-only letters whose ICAO row differs at the start of a name component.
_UKRAINIAN_INITIAL = {"Є": "YE", "Ї": "YI"}

# Apostrophes and the marks that stand for them (Uzbek ʻ, Ukrainian ʼ, the prime of scholarly Ь): dropped.
_APOSTROPHES = frozenset("'ʻʼ’‘`´ʹ")
# Between two components: one filler. '<' is accepted so that a name copied from an MRZ reads back.
_SEPARATORS = frozenset("-‐‑‒–—,<")


def transliterate(text: str) -> str:
    """`text` in the MRZ alphabet: A-Z, with one space between name components, upper case, no edge spaces.

    Input in any case and in the scripts of the module docstring's table; the result is stable
    (transliterating it again gives it back). Raises `NoMrzForm` naming the first character that has no
    MRZ form (another script, a digit, a symbol) or when no letter is left (empty text, "-", "Ь").
    """
    out: list[str] = []
    at_component_start = True
    for char in unicodedata.normalize("NFC", text).upper():
        if char.isspace() or char in _SEPARATORS:
            if out and out[-1] != " ":
                out.append(" ")
            at_component_start = True
            continue
        if char in _APOSTROPHES or unicodedata.category(char) == "Mn":
            continue
        if "A" <= char <= "Z":
            letters = char
        elif at_component_start and char in _UKRAINIAN_INITIAL:
            letters = _UKRAINIAN_INITIAL[char]
        elif char in _CYRILLIC:
            letters = _CYRILLIC[char]
        elif char in _LATIN:
            letters = _LATIN[char]
        elif unicodedata.category(char).startswith("P"):
            # Part 3 §4.6: "all other punctuation characters shall be omitted".
            continue
        else:
            base = _base_latin_letter(char)
            if base is None:
                raise NoMrzForm(f"{char!r} (U+{ord(char):04X}) in {text!r} has no form in the machine-readable zone")
            letters = base
        if letters:
            out.append(letters)
            at_component_start = False
    result = "".join(out).strip()
    if not result:
        raise NoMrzForm(f"{text!r} has no letter that can be written in the machine-readable zone")
    return result


def _base_latin_letter(char: str) -> str | None:
    """A-Z when `char` is one of them plus combining marks (É, Ṣ, Ǧ), else None."""
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if "A" <= base <= "Z" and all(unicodedata.category(mark) == "Mn" for mark in marks):
        return base
    return None


def name_field(surname: str, given_names: str, width: int = NAME_WIDTH) -> str:
    """The name field of the MRZ, exactly `width` characters: ``SURNAME<<GIVEN<NAMES`` and fillers.

    Both names are transliterated first; the surname is required, the given names may be empty (then the
    surname is followed by fillers only). A name that fits is never truncated. One that does not is cut as
    Part 7 §4.2.2.1 says, component by component (`_fit`: as many components as fit at least as initials,
    letters going to the earlier ones first, so the last ones are cut first, down to their initial, then
    left out):

    - while the whole surname leaves room for ``<<`` and one letter, it is kept and the given names fill
      the room left (NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K and ...<<ARNPOL<PETCH<CHARONGU, §4.2.3.1;
      ERIKSSON<<AN in 12 positions);
    - a longer surname is cut to leave exactly ``<<`` and the first given initial
      (BENNELONG<WOOLOOMOOLOO<WARRANDYTE<WA<<D — one of the cuts §4.2.3.2 allows);
    - a surname alone, or in a field too narrow for ``<<`` and a letter, is cut to the field.

    A cut field is full to its last position and ends with a letter, which is how ICAO marks possible
    truncation; only a name of one-letter components may come out shorter and end with a filler.

    Raises `NoMrzForm` (with the failing field in `fields`) when a name has no MRZ form, and `ValueError`
    when `width` is less than 1.
    """
    if width < 1:
        raise ValueError("the name field needs at least one position")
    primary = _components(surname, "surname")
    secondary = _components(given_names, "given_names") if given_names.strip() else []
    if len(_render(primary, secondary)) > width:
        if not secondary or width < 4:
            primary, secondary = _fit(primary, width), []
        else:
            if len(_render(primary, [])) + 3 > width:
                primary = _fit(primary, width - 3)
            secondary = _fit(secondary, width - len(_render(primary, [])) - 2)
    return _render(primary, secondary).ljust(width, FILLER)


def _components(name: str, field: str) -> list[str]:
    try:
        return transliterate(name).split(" ")
    except NoMrzForm as error:
        raise NoMrzForm(error.detail, fields={field: error.detail}) from None


def _render(primary: list[str], secondary: list[str]) -> str:
    field = FILLER.join(primary)
    if secondary:
        field += FILLER * 2 + FILLER.join(secondary)
    return field


def _fit(components: list[str], room: int) -> list[str]:
    """The longest prefix of `components` that fits `room` (>= 1) as initials, each lengthened in turn,
    first component first, to fill `room` — exactly, unless they are all too short to."""
    kept = min(len(components), (room + 1) // 2)
    spare = room - (2 * kept - 1)
    fitted: list[str] = []
    for component in components[:kept]:
        letters = min(len(component), 1 + spare)
        spare -= letters - 1
        fitted.append(component[:letters])
    return fitted


_STATE = re.compile(r"[A-Z]{1,3}")
_DOCUMENT_CODE = re.compile(r"V[A-Z]?")
_VISA_NUMBER = re.compile(r"[A-Z0-9](?:[A-Z0-9<]{0,7}[A-Z0-9])?")
_OPTIONAL_DATA = re.compile(r"[A-Z0-9<]{0,16}")
_SEX_IN_MRZ: dict[str, str] = {"M": "M", "F": "F", "X": FILLER}
_SEX_FROM_MRZ: dict[str, Sex] = {"M": "M", "F": "F", FILLER: "X"}


@dataclass(frozen=True, slots=True, kw_only=True)
class MrvA:
    """The data an MRV-A zone carries, and the zone itself (`lines`).

    - `issuing_state`, `nationality`: ICAO codes of Doc 9303 Part 3 §5, one to three letters ("KAZ", "UTO",
      Germany's "D"), written padded with fillers;
    - `surname`, `given_names`: as written in any script of `transliterate`, or already in MRZ letters;
      `given_names` may be empty. They are transliterated and, if need be, truncated (`name_field`);
    - `visa_number`: up to 9 characters A-Z 0-9; a filler inside stands for a space or punctuation of the
      printed number (Part 7 §4.2.2.2);
    - `sex`: "M", "F" or "X" (unspecified, a filler in the zone);
    - `valid_until`: in 2000-2099, the century the zone's two-digit year is read in;
    - `date_of_birth`: any date; `parse_mrv_a` reads it back within the hundred years before its `today`;
    - `optional_data`: up to 16 characters A-Z 0-9 <, at the issuing State's discretion;
    - `document_code`: "V", or "V" and a letter the issuing State uses for a type of visa.

    Raises `InvalidInput` naming every malformed field, or `NoMrzForm` when only names are at fault.
    """

    issuing_state: str
    surname: str
    given_names: str
    visa_number: str
    nationality: str
    date_of_birth: date
    sex: Sex
    valid_until: date
    optional_data: str = ""
    document_code: str = "V"

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        for name, value, shape, expected in (
            ("issuing_state", self.issuing_state, _STATE, "one to three letters A-Z"),
            ("nationality", self.nationality, _STATE, "one to three letters A-Z"),
            ("visa_number", self.visa_number, _VISA_NUMBER, "one to nine characters A-Z 0-9"),
            ("optional_data", self.optional_data, _OPTIONAL_DATA, "up to 16 characters A-Z 0-9 <"),
            ("document_code", self.document_code, _DOCUMENT_CODE, "V, or V and one letter"),
        ):
            if shape.fullmatch(value) is None:
                problems[name] = f"{value!r} is not {expected}"
        if self.sex not in _SEX_IN_MRZ:
            problems["sex"] = f"{self.sex!r} is not M, F or X"
        if not 2000 <= self.valid_until.year <= 2099:
            problems["valid_until"] = f"{self.valid_until} is outside 2000-2099, the century the MRZ is read in"
        try:
            name_field(self.surname, self.given_names)
        except NoMrzForm as error:
            if not problems:
                raise
            problems.update(error.fields)
        if problems:
            raise InvalidInput("; ".join(f"{field}: {why}" for field, why in problems.items()), fields=problems)

    def lines(self) -> tuple[str, str]:
        """The two 44-character lines of the zone, check digits computed."""
        number = self.visa_number.ljust(VISA_NUMBER_WIDTH, FILLER)
        birth = _yymmdd(self.date_of_birth)
        until = _yymmdd(self.valid_until)
        upper = (
            self.document_code.ljust(2, FILLER)
            + self.issuing_state.ljust(3, FILLER)
            + name_field(self.surname, self.given_names)
        )
        lower = (
            number
            + check_digit(number)
            + self.nationality.ljust(3, FILLER)
            + birth
            + check_digit(birth)
            + _SEX_IN_MRZ[self.sex]
            + until
            + check_digit(until)
            + self.optional_data.ljust(OPTIONAL_DATA_WIDTH, FILLER)
        )
        return upper, lower


def _yymmdd(day: date) -> str:
    return f"{day.year % 100:02d}{day.month:02d}{day.day:02d}"


_MRZ_LINE = re.compile(r"[A-Z0-9<]*")
_NAME_FIELD = re.compile(r"[A-Z<]*")
_CODE_FIELD = re.compile(r"[A-Z]{1,3}<*")
_DATE_FIELD = re.compile(r"[0-9]{6}")


def parse_mrv_a(line1: str, line2: str, *, today: date) -> MrvA:
    """Read an MRV-A zone back, checking lengths, characters, fields and every check digit.

    Names come back in MRZ letters, components separated by spaces ("VAN DER MUELLEN", "ANNA MARIA"); the
    result's `lines()` are the lines read. A two-digit birth year is put in the hundred years up to `today`
    (a holder aged 100 or more reads a century too young); the valid-until year is read as 20YY. Dates of
    birth written with fillers (unknown) are not accepted. The document number's trailing fillers are
    padding and are dropped.

    Raises `MalformedMrz` naming what is wrong, with the failing field in `fields`.
    """
    for name, line in (("line1", line1), ("line2", line2)):
        if len(line) != LINE_LENGTH:
            _malformed(name, f"{name} has {len(line)} characters, an MRV-A line has {LINE_LENGTH}")
        if _MRZ_LINE.fullmatch(line) is None:
            bad = next(char for char in line if _MRZ_LINE.fullmatch(char) is None)
            _malformed(name, f"{name} holds {bad!r}; the MRZ has only A-Z, 0-9 and <")
    document_code = line1[0:2].rstrip(FILLER)
    if _DOCUMENT_CODE.fullmatch(document_code) is None:
        _malformed("document_code", f"{line1[0:2]!r} is not the code of a visa (V, then a letter or <)")
    surname, given_names = _read_name(line1[5:])
    number_field = line2[0:9]
    _check(number_field, line2[9], "visa_number")
    visa_number = number_field.rstrip(FILLER)
    if _VISA_NUMBER.fullmatch(visa_number) is None:
        _malformed("visa_number", f"{number_field!r} is not a document number")
    for name, field, digit in (("date_of_birth", line2[13:19], line2[19]), ("valid_until", line2[21:27], line2[27])):
        if _DATE_FIELD.fullmatch(field) is None:
            _malformed(name, f"{name} {field!r} is not a date YYMMDD")
        _check(field, digit, name)
    sex = _SEX_FROM_MRZ.get(line2[20])
    if sex is None:
        _malformed("sex", f"{line2[20]!r} is not a sex in the MRZ (M, F or <)")
    return MrvA(
        document_code=document_code,
        issuing_state=_read_code(line1[2:5], "issuing_state"),
        surname=surname,
        given_names=given_names,
        visa_number=visa_number,
        nationality=_read_code(line2[10:13], "nationality"),
        date_of_birth=_read_birth(line2[13:19], today),
        sex=sex,
        valid_until=_read_date(line2[21:27], 2000, "valid_until"),
        optional_data=line2[28:44].rstrip(FILLER),
    )


def _malformed(field: str, detail: str) -> NoReturn:
    raise MalformedMrz(detail, fields={field: detail})


def _check(field: str, digit: str, name: str) -> None:
    expected = check_digit(field)
    if digit != expected:
        _malformed(name, f"the check digit of {name} {field!r} is {digit!r}, it should be {expected!r}")


def _read_code(field: str, name: str) -> str:
    if _CODE_FIELD.fullmatch(field) is None:
        _malformed(name, f"{field!r} is not a three-letter code")
    return field.rstrip(FILLER)


def _read_name(field: str) -> tuple[str, str]:
    if _NAME_FIELD.fullmatch(field) is None:
        _malformed("name", f"the name field {field!r} holds a digit")
    primary, _, secondary = field.rstrip(FILLER).partition(FILLER * 2)
    surname = primary.split(FILLER)
    given = secondary.split(FILLER) if secondary else []
    if not primary or not all(surname) or not all(given):
        _malformed("name", f"the name field {field!r} has an empty name component")
    return " ".join(surname), " ".join(given)


def _read_birth(field: str, today: date) -> date:
    yy, mm, dd = int(field[0:2]), int(field[2:4]), int(field[4:6])
    # Compared as tuples so that 29 February of a year that is not leap in the other century still sorts.
    recent = (2000 + yy, mm, dd) <= (today.year, today.month, today.day)
    return _read_date(field, 2000 if recent else 1900, "date_of_birth")


def _read_date(field: str, century: int, name: str) -> date:
    try:
        return date(century + int(field[0:2]), int(field[2:4]), int(field[4:6]))
    except ValueError:
        _malformed(name, f"{name} {field!r} is not a date YYMMDD")
