"""The e-visa of the Commonwealth Visa: one page in each language, its MRZ printed exactly, its QR code read back.

Expected wording is written out here rather than asked of the catalogues, so that a missing or wrong
translation fails a test instead of being compared with itself.
"""

from __future__ import annotations

import ast
import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

import silkway.documents.visa as visa_module
from silkway.documents import EVisa, FontUnavailable, find_fonts, read_payloads, render_visa_document
from silkway.documents.pdf import FONT_DIR_VARIABLE
from silkway.documents.visa import ENTRY_LABELS, SEX_LABELS, find_mono_font
from silkway.i18n import LANGUAGES, UnsupportedLanguage, translator

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
SEAL = "SWV1:" + "".join(random.Random(300).choice(BASE45) for _ in range(300))
MRZ = ("V<KAZGANBAATAR<<BATBAYAR<<<<<<<<<<<<<<<<<<<<", "E123456782MNG9002155M2705295<<<<<<<<<<<<<<<<")
ISSUED_AT = datetime(2027, 2, 20, 9, 30, tzinfo=UTC)
PARTICIPANTS = ("KZ", "KG", "UZ", "TJ", "TM", "AZ", "BY", "RU")
A4_POINTS = (595, 842)


def a_visa(**overrides: Any) -> EVisa:
    """A uniform, multiple-entry visa issued in Astana to a Mongolian citizen for 90 days."""
    fields: dict[str, Any] = {
        "number": "KZ0000123",
        "issuing_state": "KZ",
        "issuing_office": "KZ-CONSULAR-ASTANA",
        "issuing_office_name": "Консульский департамент МИД, Астана",
        "surname": "GANBAATAR",
        "given_names": "BATBAYAR",
        "native_name": "Ганбаатар Батбаяр",
        "nationality": "MNG",
        "date_of_birth": date(1990, 2, 15),
        "sex": "M",
        "passport_number": "E12345678",
        "valid_from": date(2027, 3, 1),
        "valid_until": date(2027, 5, 29),
        "duration_of_stay_days": 90,
        "entries": "multiple",
        "states": PARTICIPANTS,
        "excluded_states": (),
        "mrz": MRZ,
        "seal": SEAL,
        "issued_at": ISSUED_AT,
    }
    fields.update(overrides)
    return EVisa(**fields)


def a_limited_visa(**overrides: Any) -> EVisa:
    """The same visa with limited territorial validity: not valid in Turkmenistan and Azerbaijan."""
    return a_visa(states=("KZ", "KG", "UZ", "TJ", "BY", "RU"), excluded_states=("TM", "AZ"), **overrides)


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {lang: render_visa_document(a_visa(), lang) for lang in LANGUAGES}


@pytest.fixture(scope="module")
def limited() -> dict[str, bytes]:
    return {lang: render_visa_document(a_limited_visa(), lang) for lang in LANGUAGES}


def text_of(pdf: bytes) -> str:
    """The text of the PDF with every run of whitespace (line ends, no-break spaces) as one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def lines_of(pdf: bytes) -> list[str]:
    """The lines of text of the first page, exactly as extracted."""
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


@dataclass(frozen=True)
class Run:
    """A piece of text as drawn: its baseline in points from the foot of the page, and its font."""

    text: str
    y: float
    font: str


def runs_of(pdf: bytes) -> list[Run]:
    runs: list[Run] = []

    def visit(text: str, cm: list[float], tm: list[float], font: dict[str, Any] | None, size: float) -> None:
        if text.strip():
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append(Run(text.strip(), y, str(font.get("/BaseFont", "")) if font else ""))

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    return runs


# --- the page --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_visa_is_one_a4_portrait_page(rendered: dict[str, bytes], lang: str) -> None:
    page = PdfReader(io.BytesIO(rendered[lang])).pages[0]

    assert pages_of(rendered[lang]) == 1
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4_POINTS


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "kk",
            [
                "Достастық визасы",
                "Электрондық виза",
                "Виза нөмірі Визаны берген мемлекет KZ0000123 Қазақстан",
                "Тегі GANBAATAR",
                "Аты BATBAYAR",
                "Ұлттық жазудағы аты-жөні Ганбаатар Батбаяр",
                "Азаматтығы Моңғолия (MNG)",
                "Жынысы Ер",
                "Паспорт нөмірі E12345678",
                "Болу мерзімі 90 күн",
                "Кіру саны Көп рет",
                "Визаны берген мекеме Консульский департамент МИД, Астана (KZ-CONSULAR-ASTANA)",
                "Бұл визаны кез келген қатысушы мемлекеттің шекарасында немесе silkway verify командасымен "
                "тексеруге болады",
            ],
        ),
        (
            "ru",
            [
                "Виза Содружества",
                "Электронная виза",
                "Номер визы Государство выдачи KZ0000123 Казахстан",
                "Фамилия GANBAATAR",
                "Имя BATBAYAR",
                "Имя в национальном написании Ганбаатар Батбаяр",
                "Гражданство Монголия (MNG)",
                "Пол Мужской",
                "Номер паспорта E12345678",
                "Продолжительность пребывания 90 дней",
                "Кратность Многократная",
                "Выдавший орган Консульский департамент МИД, Астана (KZ-CONSULAR-ASTANA)",
                "Эту визу можно проверить на границе любого государства-участника или командой silkway verify",
            ],
        ),
        (
            "en",
            [
                "Commonwealth Visa",
                "E-visa",
                "Visa number Issuing state KZ0000123 Kazakhstan",
                "Surname GANBAATAR",
                "Given names BATBAYAR",
                "Name in national characters Ганбаатар Батбаяр",
                "Nationality Mongolia (MNG)",
                "Sex Male",
                "Passport number E12345678",
                "Duration of stay 90 days",
                "Entries Multiple entries",
                "Issuing office Консульский департамент МИД, Астана (KZ-CONSULAR-ASTANA)",
                "Check this visa at the border of any participating state or with silkway verify",
            ],
        ),
    ],
)
def test_the_title_labels_and_values_are_in_the_language_asked_for(
    rendered: dict[str, bytes], lang: str, expected: list[str]
) -> None:
    text = text_of(rendered[lang])

    assert [phrase for phrase in expected if phrase not in text] == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "kk",
            [
                "Туған күні 1990 ж. 15 ақп.",
                "Жарамдылық мерзімінің басы 2027 ж. 01 нау.",
                "Жарамдылық мерзімінің соңы 2027 ж. 29 мам.",
                "Берілген күні 2027 ж. 20 ақп., 09:30 UTC",
            ],
        ),
        (
            "ru",
            [
                "Дата рождения 15 февр. 1990 г.",
                "Действительна с 1 мар. 2027 г.",
                "Действительна до 29 мая 2027 г.",
                "Дата выдачи 20 февр. 2027 г., 09:30 UTC",
            ],
        ),
        (
            "en",
            [
                "Date of birth Feb 15, 1990",
                "Valid from Mar 1, 2027",
                "Valid until May 29, 2027",
                "Date of issue Feb 20, 2027, 9:30 AM UTC",
            ],
        ),
    ],
)
def test_dates_are_written_as_the_locale_writes_them(
    rendered: dict[str, bytes], lang: str, expected: list[str]
) -> None:
    text = text_of(rendered[lang])

    assert [phrase for phrase in expected if phrase not in text] == []


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [
        ("ru", 1, "Продолжительность пребывания 1 день"),
        ("ru", 3, "Продолжительность пребывания 3 дня"),
        ("ru", 21, "Продолжительность пребывания 21 день"),
        ("kk", 30, "Болу мерзімі 30 күн"),
        ("en", 1, "Duration of stay 1 day"),
    ],
)
def test_the_duration_of_stay_takes_the_plural_of_the_language(lang: str, days: int, expected: str) -> None:
    text = text_of(render_visa_document(a_visa(duration_of_stay_days=days), lang))

    assert expected in text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "kk",
            "Жарамды мемлекеттер Қазақстан, Қырғызстан, Өзбекстан, Тәжікстан, Түрікменстан, Әзірбайжан, "
            "Беларусь, Ресей",
        ),
        (
            "ru",
            "Действительна в государствах Казахстан, Киргизия, Узбекистан, Таджикистан, Туркменистан, "
            "Азербайджан, Беларусь, Россия",
        ),
        (
            "en",
            "Valid in Kazakhstan, Kyrgyzstan, Uzbekistan, Tajikistan, Turkmenistan, Azerbaijan, Belarus, Russia",
        ),
    ],
)
def test_the_states_of_validity_are_named_in_the_language(rendered: dict[str, bytes], lang: str, expected: str) -> None:
    assert expected in text_of(rendered[lang])


@pytest.mark.parametrize(
    ("lang", "expected", "limited"),
    [
        ("kk", "Бірыңғай виза — барлық қатысушы мемлекеттерде жарамды", "шектеулі"),
        ("ru", "Единая виза — действительна во всех государствах-участниках", "ограниченной"),
        ("en", "Uniform visa — valid in all participating states", "limited"),
    ],
)
def test_a_uniform_visa_says_it_is_valid_everywhere(
    rendered: dict[str, bytes], lang: str, expected: str, limited: str
) -> None:
    text = text_of(rendered[lang])

    assert expected in text
    assert limited not in text


@pytest.mark.parametrize(
    ("lang", "expected", "uniform"),
    [
        (
            "kk",
            "Аумақтық жарамдылығы шектеулі виза — мына мемлекеттерде жарамсыз: Түрікменстан, Әзірбайжан",
            "Бірыңғай виза",
        ),
        (
            "ru",
            "Виза с ограниченной территориальной действительностью — недействительна в государствах: "
            "Туркменистан, Азербайджан",
            "Единая виза",
        ),
        ("en", "Visa with limited territorial validity — not valid in: Turkmenistan, Azerbaijan", "Uniform visa"),
    ],
)
def test_a_visa_with_limited_territorial_validity_names_the_excluded_states(
    limited: dict[str, bytes], lang: str, expected: str, uniform: str
) -> None:
    text = text_of(limited[lang])

    assert expected in text
    assert uniform not in text
    assert text.count(expected.rsplit(", ", 1)[-1]) == 1  # an excluded state is not listed among the valid ones


@pytest.mark.parametrize(("sex", "expected"), [("F", "Пол Женский"), ("X", "Пол Не указан")])
def test_every_sex_is_printed_translated(sex: str, expected: str) -> None:
    assert expected in text_of(render_visa_document(a_visa(sex=sex), "ru"))


def test_a_single_entry_visa_says_so() -> None:
    assert "Кіру саны Бір рет" in text_of(render_visa_document(a_visa(entries="single"), "kk"))


def test_without_a_native_name_the_row_is_left_out() -> None:
    text = text_of(render_visa_document(a_visa(native_name=None), "ru"))

    assert "Имя в национальном написании" not in text
    assert "Имя BATBAYAR Гражданство" in text


def test_a_nationality_that_names_no_country_is_printed_as_its_code() -> None:
    text = text_of(render_visa_document(a_visa(nationality="XXA"), "en"))

    assert "Nationality XXA Date of birth" in text


def test_the_metadata_names_the_visa_and_the_producer(rendered: dict[str, bytes]) -> None:
    metadata = PdfReader(io.BytesIO(rendered["kk"])).metadata

    assert metadata is not None
    assert metadata.title == "Достастық визасы KZ0000123"
    assert metadata.subject == "KZ0000123"
    assert metadata.producer == "Silkway"
    assert metadata.creation_date == ISSUED_AT


def test_the_same_visa_gives_the_same_bytes(rendered: dict[str, bytes]) -> None:
    assert render_visa_document(a_visa(), "en") == rendered["en"]


# --- the machine-readable zone and the QR code -----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_mrz_lines_are_printed_exactly_in_the_monospaced_font(rendered: dict[str, bytes], lang: str) -> None:
    lines = lines_of(rendered[lang])
    fonts = {run.text: run.font for run in runs_of(rendered[lang])}

    assert lines[-2:] == list(MRZ)
    assert [fonts[line] for line in MRZ] == ["/MPDFAA+DejaVuSansMonoBook"] * 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_qr_code_gives_back_exactly_the_seal(rendered: dict[str, bytes], lang: str) -> None:
    assert len(SEAL) > 300
    assert read_payloads(rendered[lang]) == [SEAL]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_verify_command_is_never_cut_across_two_lines(rendered: dict[str, bytes], lang: str) -> None:
    lines = [" ".join(line.split()) for line in lines_of(rendered[lang])]

    assert [line for line in lines if "silkway verify" in line] != []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_long_name_is_cut_short_and_stays_above_the_mrz_on_one_page(lang: str) -> None:
    visa = a_limited_visa(
        surname="ABDURAKHMANOVA-" * 20 + "SURNAMEEND",
        given_names="GULNARA " * 30 + "GIVENEND",
        native_name="Абдурахманова Гульнара " * 3 + "Конец",
        issuing_office_name="Консульский отдел Посольства Республики Казахстан " * 10 + "OFFICEEND",
    )

    pdf = render_visa_document(visa, lang)
    text = text_of(pdf)
    runs = runs_of(pdf)
    mrz_top = max(run.y for run in runs if run.text in MRZ)
    others = [run for run in runs if run.text not in MRZ]

    assert pages_of(pdf) == 1
    assert "ABDURAKHMANOVA-" in text
    assert "…" in text
    # A word too long for a line is broken anywhere, so the ends are looked for with the spaces taken out.
    squeezed = "".join(text.split())
    assert [end for end in ("SURNAMEEND", "GIVENEND", "Конец", "OFFICEEND") if end in squeezed] == []
    assert lines_of(pdf)[-2:] == list(MRZ)
    assert [run.text for run in others if not mrz_top + 20 < run.y < A4_POINTS[1]] == []
    assert read_payloads(pdf) == [SEAL]


# --- languages and fonts ---------------------------------------------------------------------------------


def test_an_unsupported_language_is_refused_as_for_the_transit_document() -> None:
    with pytest.raises(UnsupportedLanguage, match="kk, ru, en"):
        render_visa_document(a_visa(), "de")


def msgids_in(path: str) -> set[str]:
    """The string literals passed to ``_()`` or ``gettext()`` in a source file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name in {"_", "gettext"} and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
    return found


def test_every_message_the_visa_uses_is_translated() -> None:
    literal_calls = msgids_in(visa_module.__file__)
    used = literal_calls | set(SEX_LABELS.values()) | set(ENTRY_LABELS.values())

    assert len(literal_calls) >= 20
    for lang in ("kk", "ru"):
        gettext = translator(lang).gettext
        assert sorted(msgid for msgid in used if gettext(msgid) == msgid) == []


def dejavu_sans_only(directory: Path) -> Path:
    regular, bold = find_fonts()
    directory.mkdir()
    (directory / "DejaVuSans.ttf").symlink_to(regular)
    (directory / "DejaVuSans-Bold.ttf").symlink_to(bold)
    return directory


def test_without_dejavu_sans_mono_rendering_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(FONT_DIR_VARIABLE, str(dejavu_sans_only(tmp_path / "fonts")))

    with pytest.raises(FontUnavailable, match=r"DejaVuSansMono\.ttf.*fonts-dejavu-core.*SILKWAY_PDF_FONT_DIR"):
        render_visa_document(a_visa(), "en")


def test_the_monospaced_font_is_looked_for_in_the_configured_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fonts = dejavu_sans_only(tmp_path / "fonts")
    (fonts / "mono").mkdir()
    (fonts / "mono" / "DejaVuSansMono.ttf").symlink_to(find_mono_font())
    monkeypatch.setenv(FONT_DIR_VARIABLE, str(tmp_path))

    assert find_mono_font() == fonts / "mono" / "DejaVuSansMono.ttf"
    assert pages_of(render_visa_document(a_visa(), "kk")) == 1


# --- the model -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sex": "male"}, "unknown sex"),
        ({"entries": "double"}, "unknown number of entries"),
        ({"issuing_state": "KAZ"}, "issuing state must be ISO 3166 alpha-2"),
        ({"states": ("kz",)}, "states must be ISO 3166 alpha-2"),
        ({"states": ()}, "at least one state"),
        ({"excluded_states": ("RU",)}, "RU cannot be both"),
        ({"valid_until": date(2027, 2, 28)}, "before it starts"),
        ({"duration_of_stay_days": 0}, "at least one day"),
        ({"mrz": (MRZ[0], MRZ[1][:-1])}, "two lines of 44 characters"),
        ({"mrz": (MRZ[0].lower(), MRZ[1])}, "two lines of 44 characters"),
        ({"issued_at": datetime(2027, 2, 20, 9, 30)}, "timezone-aware"),  # noqa: DTZ001 - a naive time is refused
        ({"seal": ""}, "printable ASCII"),
        ({"seal": "SWV1:ÄBC"}, "printable ASCII"),
        ({"seal": "SWV1:ABC\nDEF"}, "printable ASCII"),
    ],
)
def test_a_visa_refuses_values_it_could_not_print_truthfully(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        a_visa(**overrides)
