"""The Commonwealth Visa as an e-visa: one A4 page the traveller prints, with the visa's signed QR code.

The page keeps the grid and fonts of the transit document (`silkway.documents.pdf`): every field has
a line budget and is cut short with an ellipsis, so a long name can never push the page onto a second
sheet or over the machine-readable zone. The zone is printed at the foot in DejaVu Sans Mono, whose
fixed pitch keeps its columns; the QR code carries the signed visa, which is what a border verifies.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.core import get_global
from babel.units import format_unit
from fpdf import FPDF
from fpdf.enums import Align

from silkway.documents.pdf import (
    _BLACK,
    _CONTENT_W,
    _FAMILY,
    _FONT_DIRS,
    _GREY,
    _GUTTER,
    _LEFT_W,
    _MARGIN,
    _PAGE_H,
    _PAGE_W,
    _QR_SCALE,
    _QR_W,
    _VALUE_W,
    FONT_DIR_VARIABLE,
    FontUnavailable,
    _Field,
    _Sheet,
    find_fonts,
)
from silkway.documents.qr import qr_png
from silkway.i18n import N_, format_date, format_datetime, translator

__all__ = [
    "ENTRIES",
    "ENTRY_LABELS",
    "SEXES",
    "SEX_LABELS",
    "VERIFY_COMMAND",
    "EVisa",
    "find_mono_font",
    "render_visa_document",
]

ENTRIES = ("single", "multiple")
SEXES = ("M", "F", "X")
VERIFY_COMMAND = "silkway verify"
"""The command the page names for checking the visa; kept out of the catalogues, as it is never translated."""

# The English msgids of the codes of `EVisa`.
SEX_LABELS = {"M": N_("Male"), "F": N_("Female"), "X": N_("Unspecified")}
ENTRY_LABELS = {"single": N_("Single entry"), "multiple": N_("Multiple entries")}

_MONO_FILE = "DejaVuSansMono.ttf"
_MONO_FAMILY = "silkway-mono"
_MRZ_LINE = re.compile(r"[A-Z0-9<]{44}")
_ALPHA_2 = re.compile(r"[A-Z]{2}")
# 12 pt DejaVu Sans Mono advances 2.55 mm a character: the ten characters to the inch of ICAO Doc 9303.
_MRZ_SIZE = 12.0
_MRZ_HEIGHT = 6.0
_MRZ_TOP = _PAGE_H - _MARGIN - 2 * _MRZ_HEIGHT
_HEADER_H = 31.0
_TYPE_LINES = 3
_NO_VALUE = "—"
# CLDR has no long pattern with plural forms for a Kazakh day, and the short one is the full word ("30 күн").
_DAY_PATTERN_LENGTH: dict[str, Literal["short", "long", "narrow"]] = {"kk": "short"}


def _require_alpha_2(name: str, codes: Sequence[str]) -> None:
    bad = [code for code in codes if _ALPHA_2.fullmatch(code) is None]
    if bad:
        raise ValueError(f"{name} must be ISO 3166 alpha-2 codes in upper case, got {', '.join(map(repr, bad))}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EVisa:
    """What the e-visa page of one Commonwealth Visa shows: the holder, the validity and the signed seal.

    `states` are the participating states (ISO 3166 alpha-2) where the visa is valid; `excluded_states`
    is empty for a uniform visa and names the states where a visa with limited territorial validity is
    not. `nationality` is the ICAO code of the passport (``DEU``, ``XXA``); `mrz` is the two 44-character
    lines of a type A machine-readable visa; `seal` is the signed payload the QR code carries.

    Raises `ValueError` for an unknown `sex` (`SEXES`) or `entries` (`ENTRIES`), a malformed state
    code or MRZ line, no `states`, a state both valid and excluded, a validity ending before it
    starts, a stay of less than a day, a naive `issued_at`, or a `seal` that is not printable ASCII.
    """

    number: str
    issuing_state: str
    issuing_office: str
    issuing_office_name: str
    surname: str
    given_names: str
    native_name: str | None
    nationality: str
    date_of_birth: date
    sex: str
    passport_number: str
    valid_from: date
    valid_until: date
    duration_of_stay_days: int
    entries: str
    states: tuple[str, ...]
    excluded_states: tuple[str, ...]
    mrz: tuple[str, str]
    seal: str
    issued_at: datetime

    def __post_init__(self) -> None:
        if self.sex not in SEXES:
            raise ValueError(f"unknown sex {self.sex!r}; expected one of {', '.join(SEXES)}")
        if self.entries not in ENTRIES:
            raise ValueError(f"unknown number of entries {self.entries!r}; expected one of {', '.join(ENTRIES)}")
        _require_alpha_2("the issuing state", (self.issuing_state,))
        _require_alpha_2("the states", self.states)
        _require_alpha_2("the excluded states", self.excluded_states)
        if not self.states:
            raise ValueError("a visa is valid in at least one state")
        both = sorted(set(self.states) & set(self.excluded_states))
        if both:
            raise ValueError(f"{', '.join(both)} cannot be both a state of validity and an excluded state")
        if self.valid_until < self.valid_from:
            raise ValueError(f"the validity ends on {self.valid_until} before it starts on {self.valid_from}")
        if self.duration_of_stay_days < 1:
            raise ValueError(f"the duration of stay must be at least one day, got {self.duration_of_stay_days}")
        if len(self.mrz) != 2 or any(_MRZ_LINE.fullmatch(line) is None for line in self.mrz):
            raise ValueError("the MRZ must be two lines of 44 characters from A-Z, 0-9 and '<'")
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError(f"issued_at must be timezone-aware, got {self.issued_at.isoformat()}")
        if not (self.seal and self.seal.isascii() and self.seal.isprintable()):
            raise ValueError("the seal must be a non-empty printable ASCII string")


def find_mono_font() -> Path:
    """The path of DejaVuSansMono.ttf, looked for where `find_fonts` looks for DejaVu Sans.

    That is `SILKWAY_PDF_FONT_DIR` when it is set (and only there), else the usual Debian, Fedora and
    local font directories with their subdirectories. Raises `FontUnavailable` when it is not found.
    """
    configured = os.environ.get(FONT_DIR_VARIABLE, "").strip()
    directories = (Path(configured),) if configured else _FONT_DIRS
    for directory in directories:
        try:
            candidates = [directory / _MONO_FILE, *sorted(directory.rglob(_MONO_FILE))]
        except OSError:
            continue
        for candidate in candidates:
            if candidate.is_file():
                return candidate
    where = f"{FONT_DIR_VARIABLE}={configured}" if configured else ", ".join(str(d) for d in _FONT_DIRS)
    raise FontUnavailable(
        f"{_MONO_FILE} was not found in {where}; install Debian's fonts-dejavu-core package "
        f"or set {FONT_DIR_VARIABLE} to a directory holding it"
    )


def render_visa_document(visa: EVisa, lang: str) -> bytes:
    """The one-page A4 e-visa of `visa` in `lang`, with the QR code of `visa.seal`.

    The same visa in the same language gives the same bytes (the creation date is `issued_at`).
    Raises `UnsupportedLanguage` (a `ValueError`) for a language Silkway does not speak and
    `FontUnavailable` when DejaVu Sans or DejaVu Sans Mono is not installed.
    """
    gettext = translator(lang).gettext
    regular, bold = find_fonts()
    mono = find_mono_font()

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.c_margin = 0  # text starts exactly at the grid lines, and fitting measures what is drawn
    pdf.add_font(_FAMILY, "", regular)
    pdf.add_font(_FAMILY, "B", bold)
    # The sheet learns which characters it can print from the fonts added so far; the mono face, which
    # only ever prints the MRZ, comes after so that it does not take Kazakh letters away from the rest.
    sheet = _Sheet(pdf, gettext, lang)
    pdf.add_font(_MONO_FAMILY, "", mono)
    title = gettext("Commonwealth Visa")
    pdf.set_title(f"{title} {visa.number}")
    pdf.set_subject(visa.number)
    pdf.set_lang(lang)
    pdf.set_creator("Silkway")
    pdf.set_producer("Silkway")
    pdf.set_creation_date(visa.issued_at)
    pdf.add_page()

    page = _VisaPage(sheet, Locale.parse(lang))
    page.header(title, visa)
    top = page.visa_type(visa, top=_MARGIN + _HEADER_H + 3.0) + 3.0
    page.sheet.fields(page.field_rows(visa), top=top)
    page.qr_code(visa, top=top)
    page.machine_readable_zone(visa.mrz)
    return bytes(pdf.output())


class _VisaPage:
    """The blocks of the e-visa, drawn with the text primitives of the transit document's sheet."""

    def __init__(self, sheet: _Sheet, locale: Locale) -> None:
        self.sheet = sheet
        self.pdf = sheet.pdf
        self.gettext = sheet.gettext
        self.lang = sheet.lang
        self.locale = locale
        self.english = Locale.parse("en")

    # --- values ----------------------------------------------------------------------------------

    def state(self, code: str) -> str:
        """The name of a state in the page's language, in English where the locale lacks it, else the code."""
        return self.locale.territories.get(code) or self.english.territories.get(code) or code

    def nationality(self, code: str) -> str:
        """``Монголия (MNG)``: the named country of an ICAO alpha-3 code, or the code alone (``XXA``, ``D``)."""
        aliases = get_global("territory_aliases").get(code, [])
        if len(aliases) == 1 and _ALPHA_2.fullmatch(aliases[0]):
            name = self.state(aliases[0])
            if name != aliases[0]:
                return f"{name} ({code})"
        return code

    def days(self, count: int) -> str:
        length = _DAY_PATTERN_LENGTH.get(self.lang, "long")
        return format_unit(count, "duration-day", length=length, locale=self.locale)

    def field_rows(self, visa: EVisa) -> list[_Field]:
        _ = self.gettext
        lang = self.lang
        rows = [
            _Field(_("Surname"), visa.surname or _NO_VALUE, 2),
            _Field(_("Given names"), visa.given_names or _NO_VALUE, 2),
        ]
        if visa.native_name:
            rows.append(_Field(_("Name in national characters"), visa.native_name, 2))
        states = self.sheet.fit_list([self.state(code) for code in visa.states], _VALUE_W, 3)
        rows += [
            _Field(_("Nationality"), self.nationality(visa.nationality), 1),
            _Field(_("Date of birth"), format_date(visa.date_of_birth, lang), 1),
            _Field(_("Sex"), _(SEX_LABELS[visa.sex]), 1),
            _Field(_("Passport number"), visa.passport_number, 1),
            _Field(_("Valid from"), format_date(visa.valid_from, lang), 1),
            _Field(_("Valid until"), format_date(visa.valid_until, lang), 1),
            _Field(_("Duration of stay"), self.days(visa.duration_of_stay_days), 1),
            _Field(_("Entries"), _(ENTRY_LABELS[visa.entries]), 1),
            _Field(_("Valid in"), states, 3),
            _Field(_("Issuing office"), f"{visa.issuing_office_name} ({visa.issuing_office})", 3),
            _Field(_("Date of issue"), format_datetime(visa.issued_at, lang), 1),
        ]
        return rows

    # --- blocks ----------------------------------------------------------------------------------

    def header(self, title: str, visa: EVisa) -> None:
        _ = self.gettext
        sheet = self.sheet
        right_x = _MARGIN + _LEFT_W + _GUTTER
        sheet.font(15, bold=True)
        sheet.write(_MARGIN, _MARGIN, _CONTENT_W, sheet.fit(title, _CONTENT_W, 1), height=7.0)
        sheet.font(9, colour=_GREY)
        sheet.write(_MARGIN, _MARGIN + 7.5, _CONTENT_W, sheet.fit(_("E-visa"), _CONTENT_W, 1))

        sheet.font(8, colour=_GREY)
        sheet.write(_MARGIN, _MARGIN + 14.0, _LEFT_W, sheet.fit(_("Visa number"), _LEFT_W, 1))
        sheet.write(right_x, _MARGIN + 14.0, _QR_W, sheet.fit(_("Issuing state"), _QR_W, 1))
        sheet.font(22, bold=True)
        self.pdf.set_xy(_MARGIN, _MARGIN + 18.0)
        self.pdf.cell(w=_LEFT_W, h=10.0, text=sheet.clean(sheet.fit(visa.number, _LEFT_W, 1)))
        sheet.font(12, bold=True)
        self.pdf.set_xy(right_x, _MARGIN + 19.5)
        state = sheet.fit(self.state(visa.issuing_state), _QR_W, 1)
        self.pdf.cell(w=_QR_W, h=6.0, text=sheet.clean(state))
        self._rule(_MARGIN + _HEADER_H)

    def visa_type(self, visa: EVisa, *, top: float) -> float:
        """Draw whether the visa is uniform or valid only in some states; return where the line ends."""
        _ = self.gettext
        if visa.excluded_states:
            excluded = ", ".join(self.state(code) for code in visa.excluded_states)
            text = _("Visa with limited territorial validity — not valid in: {states}").format(states=excluded)
        else:
            text = _("Uniform visa — valid in all participating states")
        self.sheet.font(10, bold=True)
        return self.sheet.write(_MARGIN, top, _CONTENT_W, self.sheet.fit(text, _CONTENT_W, _TYPE_LINES))

    def qr_code(self, visa: EVisa, *, top: float) -> float:
        """Draw the QR code and the note on checking the visa in the right column; return where they end."""
        x = _MARGIN + _LEFT_W + _GUTTER
        self.pdf.image(BytesIO(qr_png(visa.seal, scale=_QR_SCALE)), x=x, y=top, w=_QR_W, h=_QR_W)
        note = self.gettext("Check this visa at the border of any participating state or with {command}").format(
            command=VERIFY_COMMAND.replace(" ", "\N{NO-BREAK SPACE}")  # a command cut in two reads as two words
        )
        self.sheet.font(7.5, colour=_GREY)
        return self.sheet.write(x, top + _QR_W + 1.0, _QR_W, self.sheet.fit(note, _QR_W, 6), align=Align.C)

    def machine_readable_zone(self, lines: tuple[str, str]) -> None:
        self._rule(_MRZ_TOP - 3.0)
        self.pdf.set_font(_MONO_FAMILY, "", _MRZ_SIZE)
        self.pdf.set_text_color(*_BLACK)
        for index, line in enumerate(lines):
            self.pdf.set_xy(_MARGIN, _MRZ_TOP + index * _MRZ_HEIGHT)
            self.pdf.cell(w=_CONTENT_W, h=_MRZ_HEIGHT, text=line)

    def _rule(self, y: float) -> None:
        self.pdf.set_draw_color(*_GREY)
        self.pdf.set_line_width(0.2)
        self.pdf.line(_MARGIN, y, _PAGE_W - _MARGIN, y)
