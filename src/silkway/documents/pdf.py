"""The transit accompanying document as a one-page A4 PDF.

The page is laid out on a fixed grid so that it is always one page: every list has a line budget
and is cut short with "+N more" when it would overflow, and the itinerary takes what room is left.
The full record is what the QR code carries; the printed text is for people.

Kazakh and Russian need a Unicode font, and Silkway ships none: DejaVu Sans is looked for at run
time (`find_fonts`), which raises `FontUnavailable` when it is not installed.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from fpdf.fonts import TTFFont

from silkway.documents.model import ControlLine, OfficeLine, TransitDocument
from silkway.documents.qr import qr_png
from silkway.i18n import N_, format_datetime, format_decimal, translator

__all__ = [
    "CONTROL_KIND_LABELS",
    "CONTROL_RESULT_LABELS",
    "FONT_DIR_VARIABLE",
    "STATUS_LABELS",
    "FontUnavailable",
    "find_fonts",
    "render_transit_document",
]

FONT_DIR_VARIABLE = "SILKWAY_PDF_FONT_DIR"
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/local/share/fonts"))
_REGULAR_FILE = "DejaVuSans.ttf"
_BOLD_FILE = "DejaVuSans-Bold.ttf"
_FAMILY = "silkway-sans"

# The grid, in millimetres on A4 portrait.
_PAGE_W, _PAGE_H = 210.0, 297.0
_MARGIN = 12.0
_CONTENT_W = _PAGE_W - 2 * _MARGIN
_QR_W = 60.0  # prints each module of a ~1000-character payload at ≥ 0.5 mm, which phone cameras read
_GUTTER = 6.0
_LEFT_W = _CONTENT_W - _QR_W - _GUTTER
_LABEL_W = 44.0
_LABEL_GAP = 3.0
_VALUE_W = _LEFT_W - _LABEL_W - _LABEL_GAP
_FOOTER_H = 10.0
_LINE = 4.2  # line height of body text
_ROW_GAP = 1.4
_ITINERARY_COLUMNS = 3
_SLACK = 0.3  # room kept when cutting a line short, against rounding in fpdf2's own wrapping
_QR_SCALE = 8  # pixels per module: crisp when a viewer smooths the image

_GREY = (90, 90, 90)
_BLACK = (0, 0, 0)

# The English msgids of the codes of `silkway.documents.model`.
STATUS_LABELS = {
    "submitted": N_("Submitted"),
    "in_transit": N_("In transit"),
    "arrived": N_("Arrived"),
    "discharged": N_("Discharged"),
    "refused": N_("Refused"),
    "cancelled": N_("Cancelled"),
}
CONTROL_KIND_LABELS = {
    "documentary": N_("Documentary check"),
    "physical": N_("Physical inspection"),
    "scan": N_("X-ray scan"),
}
CONTROL_RESULT_LABELS = {
    "satisfactory": N_("Satisfactory"),
    "not_satisfactory": N_("Not satisfactory"),
    "unsatisfactory": N_("Not satisfactory"),
}


class FontUnavailable(RuntimeError):
    """DejaVu Sans (regular and bold) was not found, so Cyrillic text cannot be printed."""


def find_fonts() -> tuple[Path, Path]:
    """The paths of DejaVuSans.ttf and DejaVuSans-Bold.ttf, taken from one directory.

    Looks in `SILKWAY_PDF_FONT_DIR` when it is set (and only there), else in the usual Debian, Fedora
    and local font directories, including their subdirectories. Raises `FontUnavailable` when no
    directory holds both files.
    """
    configured = os.environ.get(FONT_DIR_VARIABLE, "").strip()
    directories = (Path(configured),) if configured else _FONT_DIRS
    for directory in directories:
        found = _fonts_in(directory)
        if found is not None:
            return found
    where = f"{FONT_DIR_VARIABLE}={configured}" if configured else ", ".join(str(d) for d in _FONT_DIRS)
    raise FontUnavailable(
        f"{_REGULAR_FILE} and {_BOLD_FILE} were not found in {where}; install Debian's fonts-dejavu-core "
        f"package or set {FONT_DIR_VARIABLE} to a directory holding both files"
    )


def _fonts_in(directory: Path) -> tuple[Path, Path] | None:
    try:
        candidates = [directory / _REGULAR_FILE, *sorted(directory.rglob(_REGULAR_FILE))]
    except OSError:
        return None
    for regular in candidates:
        bold = regular.with_name(_BOLD_FILE)
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def render_transit_document(doc: TransitDocument, lang: str) -> bytes:
    """The one-page A4 PDF of `doc` in `lang`, with the QR code of `doc.payload`.

    The same document in the same language gives the same bytes (the creation date is `issued_at`).
    Raises `UnsupportedLanguage` (a `ValueError`) for a language Silkway does not speak and
    `FontUnavailable` when DejaVu Sans is not installed.
    """
    gettext = translator(lang).gettext
    regular, bold = find_fonts()

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.c_margin = 0  # text starts exactly at the grid lines, and fitting measures what is drawn
    pdf.add_font(_FAMILY, "", regular)
    pdf.add_font(_FAMILY, "B", bold)
    title = gettext("Transit accompanying document")
    pdf.set_title(f"{title} {doc.mrn}")
    pdf.set_subject(doc.mrn)
    pdf.set_lang(lang)
    pdf.set_creator("Silkway")
    pdf.set_producer("Silkway")
    pdf.set_creation_date(doc.issued_at)
    pdf.add_page()

    sheet = _Sheet(pdf, gettext, lang)
    sheet.header(title, doc)
    fields_end = sheet.fields(_fields(doc, sheet))
    qr_end = sheet.qr_code(doc)
    sheet.itinerary(doc.itinerary, top=max(fields_end, qr_end) + 4.0)
    sheet.footer(doc)
    return bytes(pdf.output())


@dataclass(frozen=True, slots=True)
class _Field:
    label: str
    value: str
    max_lines: int


def _fields(doc: TransitDocument, sheet: _Sheet) -> list[_Field]:
    _ = sheet.gettext
    lang = sheet.lang
    not_set = _("Not set")
    departure, destination = (doc.itinerary[0], doc.itinerary[-1]) if doc.itinerary else (None, None)
    return [
        _Field(_("Holder of the transit procedure"), doc.holder, 2),
        _Field(_("Vehicle"), doc.vehicle or not_set, 1),
        _Field(_("Containers"), sheet.fit_list(doc.containers, _VALUE_W, 2), 2),
        _Field(_("Seals"), sheet.fit_list(doc.seals, _VALUE_W, 3), 3),
        _Field(_("Goods items"), format_decimal(doc.goods_items, lang), 1),
        _Field(_("Gross mass (kg)"), format_decimal(doc.gross_mass_kg, lang), 1),
        _Field(_("HS codes"), sheet.fit_list(doc.hs_codes, _VALUE_W, 2), 2),
        _Field(_("Guarantee"), doc.guarantee, 2),
        _Field(_("Time limit"), format_datetime(doc.time_limit, lang) if doc.time_limit else not_set, 1),
        _Field(_("Office of departure"), _office(departure) if departure else not_set, 2),
        _Field(_("Office of destination"), _office(destination) if destination else not_set, 2),
        _Field(_("Last control"), _control(doc.last_control, sheet), 4),
    ]


def _office(office: OfficeLine) -> str:
    return f"{office.code} {office.name} ({office.country})"


def _control(control: ControlLine | None, sheet: _Sheet) -> str:
    _ = sheet.gettext
    if control is None:
        return _("No control recorded")
    return "\n".join(
        (
            f"{_(CONTROL_KIND_LABELS[control.kind])}: {_(CONTROL_RESULT_LABELS[control.result])}",
            _office(control.office),
            format_datetime(control.at, sheet.lang),
        )
    )


class _Sheet:
    """The page being drawn, with its fonts, language and the glyphs the font can print."""

    def __init__(self, pdf: FPDF, gettext: Callable[[str], str], lang: str) -> None:
        self.pdf = pdf
        self.gettext = gettext
        self.lang = lang
        self._glyphs = _printable(pdf)

    # --- text primitives -------------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """`text` with what DejaVu cannot draw (CJK, for one) replaced, instead of printing blanks."""
        return "".join(
            char
            if char == "\n" or ord(char) in self._glyphs
            else (" " if unicodedata.category(char) == "Zs" else "\N{REPLACEMENT CHARACTER}")
            for char in text
        )

    def font(self, size: float, *, bold: bool = False, colour: tuple[int, int, int] = _BLACK) -> None:
        self.pdf.set_font(_FAMILY, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def lines(self, text: str, width: float) -> list[str]:
        """How `text` wraps in `width` with the current font."""
        result = self.pdf.multi_cell(
            w=width, h=_LINE, text=self.clean(text), dry_run=True, output=MethodReturnValue.LINES, padding=0
        )
        if not isinstance(result, list):  # pragma: no cover - fpdf2 returns a list for LINES
            raise TypeError("fpdf2 did not return the lines of a dry-run multi_cell")
        return result

    def fit(self, text: str, width: float, max_lines: int) -> str:
        """`text` wrapped in `width`, cut to `max_lines` with an ellipsis when longer."""
        lines = self.lines(text, width)
        if len(lines) <= max_lines:
            return "\n".join(lines)
        kept = lines[:max_lines]
        last = kept[-1].rstrip()
        while last and self.pdf.get_string_width(last + "…") > width - _SLACK:
            last = last[:-1].rstrip()
        return "\n".join([*kept[:-1], last + "…"])

    def fit_list(self, items: Sequence[str], width: float, max_lines: int) -> str:
        """`items` joined by commas in at most `max_lines`, ending with "+N more" when they do not all fit."""
        if not items:
            return self.gettext("None")
        self.font(9.5)
        everything = ", ".join(items)
        if len(self.lines(everything, width)) <= max_lines:
            return everything
        shown = ""
        for count in range(1, len(items)):
            more = self.gettext("+{count} more").format(count=len(items) - count)
            candidate = ", ".join([*items[:count], more])
            if len(self.lines(candidate, width)) > max_lines:
                break
            shown = candidate
        return shown or self.fit(everything, width, max_lines)

    def write(
        self, x: float, y: float, width: float, text: str, *, align: Align = Align.L, height: float = _LINE
    ) -> float:
        """Draw `text` (already fitted) at (`x`, `y`) and return the y below it."""
        self.pdf.set_xy(x, y)
        self.pdf.multi_cell(
            w=width, h=height, text=self.clean(text), align=align, new_x=XPos.LEFT, new_y=YPos.NEXT, padding=0
        )
        return self.pdf.get_y()

    # --- blocks ----------------------------------------------------------------------------------

    def header(self, title: str, doc: TransitDocument) -> None:
        _ = self.gettext
        self.font(15, bold=True)
        self.write(_MARGIN, _MARGIN, _CONTENT_W, self.fit(title, _CONTENT_W, 1), height=7.0)

        self.font(8, colour=_GREY)
        self.write(_MARGIN, _MARGIN + 8.0, 100.0, _("MRN"))
        status_x = _MARGIN + 118.0
        self.write(status_x, _MARGIN + 8.0, _CONTENT_W - 118.0, _("Status"))
        self.font(22, bold=True)
        self.pdf.set_xy(_MARGIN, _MARGIN + 12.0)
        self.pdf.cell(w=114.0, h=10.0, text=self.clean(doc.mrn))
        self.font(12, bold=True)
        status = _(STATUS_LABELS[doc.status])
        self.pdf.set_xy(status_x, _MARGIN + 13.5)
        self.pdf.cell(w=_CONTENT_W - 118.0, h=6.0, text=self.clean(self.fit(status, _CONTENT_W - 118.0, 1)))
        self._rule(_MARGIN + 25.0)

    def fields(self, fields: Sequence[_Field], *, top: float = _MARGIN + 29.0) -> float:
        """Draw the label/value rows of the left column from `top`; return where they end."""
        y = top
        for field in fields:
            self.font(8, colour=_GREY)
            label = self.fit(field.label, _LABEL_W, 2)
            self.font(9.5)
            value = self.fit(field.value, _VALUE_W, field.max_lines)
            self.font(8, colour=_GREY)
            label_end = self.write(_MARGIN, y + 0.4, _LABEL_W, label)
            self.font(9.5)
            value_end = self.write(_MARGIN + _LABEL_W + _LABEL_GAP, y, _VALUE_W, value)
            y = max(label_end, value_end) + _ROW_GAP
        return y

    def qr_code(self, doc: TransitDocument) -> float:
        """Draw the QR code and its caption in the right column; return where they end."""
        x, y = _MARGIN + _LEFT_W + _GUTTER, _MARGIN + 29.0
        self.pdf.image(BytesIO(qr_png(doc.payload, scale=_QR_SCALE)), x=x, y=y, w=_QR_W, h=_QR_W)
        caption = self.gettext("Scan to verify offline: signed by {office}, key {key_id}").format(
            office=_office(doc.issued_by), key_id=doc.key_id
        )
        self.font(7.5, colour=_GREY)
        return self.write(x, y + _QR_W + 1.0, _QR_W, self.fit(caption, _QR_W, 6), align=Align.C)

    def itinerary(self, offices: Sequence[OfficeLine], *, top: float) -> None:
        """Draw the numbered route in the room left above the footer: one column while it fits, then more."""
        self._rule(top - 2.0)
        self.font(8, colour=_GREY)
        self.write(_MARGIN, top, _CONTENT_W, self.gettext("Itinerary"))
        top += _LINE + 0.8
        if not offices:
            self.font(9.5)
            self.write(_MARGIN, top, _CONTENT_W, self.gettext("Not set"))
            return
        rows_room = max(1, math.floor((_PAGE_H - _MARGIN - _FOOTER_H - top) / _LINE))
        columns = min(_ITINERARY_COLUMNS, math.ceil(len(offices) / rows_room))
        rows = min(rows_room, math.ceil(len(offices) / columns))
        capacity = rows * columns
        entries = [f"{number}. {_office(office)}" for number, office in enumerate(offices, start=1)]
        if len(entries) > capacity:
            hidden = len(entries) - (capacity - 1)
            entries = [*entries[: capacity - 1], self.gettext("+{count} more").format(count=hidden)]
        width = (_CONTENT_W - (columns - 1) * _GUTTER) / columns
        self.font(8.5)
        for index, entry in enumerate(entries):
            column, row = divmod(index, rows)
            self.write(_MARGIN + column * (width + _GUTTER), top + row * _LINE, width, self.fit(entry, width, 1))

    def footer(self, doc: TransitDocument) -> None:
        y = _PAGE_H - _MARGIN - _FOOTER_H + 2.0
        self._rule(y - 1.5)
        text = self.gettext("Issued at {at} by {office}").format(
            at=format_datetime(doc.issued_at, self.lang), office=_office(doc.issued_by)
        )
        self.font(8, colour=_GREY)
        self.write(_MARGIN, y, _CONTENT_W, self.fit(text, _CONTENT_W, 2))

    def _rule(self, y: float) -> None:
        self.pdf.set_draw_color(*_GREY)
        self.pdf.set_line_width(0.2)
        self.pdf.line(_MARGIN, y, _PAGE_W - _MARGIN, y)


def _printable(pdf: FPDF) -> frozenset[int]:
    """The code points both the regular and the bold face can draw."""
    maps = [set(font.cmap) for font in pdf.fonts.values() if isinstance(font, TTFFont)]
    return frozenset(set.intersection(*maps)) if maps else frozenset()
