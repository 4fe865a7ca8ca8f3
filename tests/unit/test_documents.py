"""The transit accompanying document: one page in each language, and its QR code read back from anything.

Reading goes through zxing-cpp for real: the PDF the renderer wrote, the PNG alone, a noisy photo of
it, and damaged input, which must always end in `UnreadableDocument` and never in a library's error.
"""

from __future__ import annotations

import ast
import io
import logging
import random
import re
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

import silkway.documents.pdf as pdf_module
from silkway.documents import (
    ControlLine,
    FontUnavailable,
    OfficeLine,
    TransitDocument,
    UnreadableDocument,
    find_fonts,
    qr_png,
    qr_svg,
    read_payloads,
    render_transit_document,
)
from silkway.documents.pdf import CONTROL_KIND_LABELS, CONTROL_RESULT_LABELS, FONT_DIR_VARIABLE, STATUS_LABELS
from silkway.documents.reading import UnreadableReason
from silkway.i18n import LANGUAGES, translator

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
PAYLOAD = "SW1:" + "".join(random.Random(45).choice(BASE45) for _ in range(600))
MRN = "26KZ0000000000017X"
ISSUED_AT = datetime(2026, 11, 21, 8, 5, tzinfo=UTC)
MM_PER_POINT = 25.4 / 72

ALMATY = OfficeLine(code="KZ-ALA-ZHETYSU", name="Алматы, Жетісу кеден бекеті", country="KZ")
ZHIBEK_ZHOLY = OfficeLine(code="KZ-ZHIBEKZHOLY", name="Жібек жолы", country="KZ")
GISHTKUPRIK = OfficeLine(code="UZ-GISHTKUPRIK", name="Гишткўприк", country="UZ")
DUSHANBE = OfficeLine(code="TJ-DUSHANBE-HQ", name="Душанбе", country="TJ")
BOUNDED = settings(max_examples=50, deadline=None)


def a_document(**overrides: Any) -> TransitDocument:
    """Laptops from Almaty to Dushanbe through Uzbekistan, checked at the Kazakh exit."""
    fields: dict[str, Any] = {
        "mrn": MRN,
        "status": "in_transit",
        "holder": "ТОО «Жібек жолы логистикасы», Алматы",
        "vehicle": "KZ 123 ABC 02",
        "containers": ("MSCU1234565",),
        "seals": ("KZ-000123", "KZ-000124"),
        "itinerary": (ALMATY, ZHIBEK_ZHOLY, GISHTKUPRIK, DUSHANBE),
        "goods_items": 3,
        "gross_mass_kg": Decimal("18250.5"),
        "hs_codes": ("847130", "847330"),
        "guarantee": "GRN-KZ-0001",
        "time_limit": ISSUED_AT + timedelta(days=7),
        "last_control": ControlLine(
            office=ZHIBEK_ZHOLY, kind="physical", result="satisfactory", at=ISSUED_AT + timedelta(hours=9)
        ),
        "issued_by": ALMATY,
        "issued_at": ISSUED_AT,
        "key_id": "kz-ala-2026-01",
        "payload": PAYLOAD,
    }
    fields.update(overrides)
    return TransitDocument(**fields)


def a_long_document() -> TransitDocument:
    offices = tuple(
        OfficeLine(code=f"KZ-POST-{number:02d}", name=f"Кеден бекеті № {number}", country="KZ") for number in range(20)
    )
    return a_document(
        itinerary=offices,
        seals=tuple(f"KZSEAL-{number:06d}" for number in range(40)),
        containers=tuple(f"MSCU{number:06d}5" for number in range(30)),
        hs_codes=tuple(f"8471{number:02d}" for number in range(25)),
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {lang: render_transit_document(a_document(), lang) for lang in LANGUAGES}


def text_of(pdf: bytes) -> str:
    """The text of the PDF with every run of whitespace (line ends, no-break spaces) as one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def pages_of(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def reason(data: bytes) -> UnreadableReason:
    with pytest.raises(UnreadableDocument) as caught:
        read_payloads(data)
    return caught.value.reason


def outcome(data: bytes) -> list[str] | UnreadableReason:
    """The payloads read, or why none could be: the two outcomes `read_payloads` may have."""
    try:
        return read_payloads(data)
    except UnreadableDocument as unreadable:
        return unreadable.reason


def png_of(image: Image.Image, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def image_of(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


# --- the PDF ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_document_is_one_a4_portrait_page(rendered: dict[str, bytes], lang: str) -> None:
    page = PdfReader(io.BytesIO(rendered[lang])).pages[0]

    assert pages_of(rendered[lang]) == 1
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_document_shows_the_mrn_and_the_translated_title(rendered: dict[str, bytes], lang: str) -> None:
    text = text_of(rendered[lang])

    assert MRN in text
    assert translator(lang).gettext("Transit accompanying document") in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_qr_code_of_the_pdf_gives_back_exactly_the_payload(rendered: dict[str, bytes], lang: str) -> None:
    assert read_payloads(rendered[lang]) == [PAYLOAD]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("kk", ["Жолда", "Кедендік транзит", "Кедендік тексеріп қарау: Қанағаттанарлық", "18 250,5"]),
        ("ru", ["В пути", "Пломбы", "Таможенный досмотр: Удовлетворительно", "18 250,5"]),
        ("en", ["In transit", "Seals", "Physical inspection: Satisfactory", "18,250.5"]),
    ],
)
def test_labels_codes_and_numbers_are_in_the_language_asked_for(
    rendered: dict[str, bytes], lang: str, expected: list[str]
) -> None:
    text = text_of(rendered[lang])

    assert [phrase for phrase in expected if phrase not in text] == []


def test_the_document_prints_cyrillic_office_names_and_the_values(rendered: dict[str, bytes]) -> None:
    text = text_of(rendered["ru"])

    for expected in ("Жібек жолы", "Гишткўприк", "KZ 123 ABC 02", "MSCU1234565", "KZ-000123, KZ-000124", "847130"):
        assert expected in text


def test_dates_are_written_by_the_i18n_formatters(rendered: dict[str, bytes]) -> None:
    text = text_of(rendered["ru"])

    assert "28 нояб. 2026 г., 08:05 UTC" in text  # the time limit
    assert "Выдан: 21 нояб. 2026 г., 08:05 UTC" in text  # the footer


def test_the_caption_names_the_signing_office_and_key(rendered: dict[str, bytes]) -> None:
    text = text_of(rendered["en"])

    assert (
        "Scan to verify offline: signed by KZ-ALA-ZHETYSU Алматы, Жетісу кеден бекеті (KZ), key kz-ala-2026-01" in text
    )


def test_the_qr_code_prints_at_least_45_mm_wide(rendered: dict[str, bytes]) -> None:
    reader = PdfReader(io.BytesIO(rendered["en"]))
    page = reader.pages[0]
    operations = ContentStream(page.get_contents(), reader).operations
    widths = [
        float(operands[0]) * MM_PER_POINT
        for (operands, operator), (_, following) in pairwise(operations)
        if operator == b"cm" and following == b"Do"
    ]

    assert len(widths) == 1
    assert widths[0] >= 45


def test_the_metadata_names_the_document_and_the_producer(rendered: dict[str, bytes]) -> None:
    metadata = PdfReader(io.BytesIO(rendered["kk"])).metadata

    assert metadata is not None
    assert metadata.title == f"Транзиттік ілеспе құжат {MRN}"
    assert metadata.subject == MRN
    assert metadata.producer == "Silkway"
    assert metadata.creation_date == ISSUED_AT


def test_the_same_document_gives_the_same_bytes(rendered: dict[str, bytes]) -> None:
    assert render_transit_document(a_document(), "en") == rendered["en"]


@pytest.mark.parametrize("status", sorted(STATUS_LABELS))
def test_every_status_is_printed_translated(status: str) -> None:
    text = text_of(render_transit_document(a_document(status=status), "kk"))

    assert translator("kk").gettext(STATUS_LABELS[status]) in text


@pytest.mark.parametrize(("kind", "result"), [("documentary", "not_satisfactory"), ("scan", "satisfactory")])
def test_the_last_control_is_printed_translated(kind: str, result: str) -> None:
    control = ControlLine(office=GISHTKUPRIK, kind=kind, result=result, at=ISSUED_AT + timedelta(days=1))

    text = text_of(render_transit_document(a_document(last_control=control), "ru"))

    gettext = translator("ru").gettext
    assert f"{gettext(CONTROL_KIND_LABELS[kind])}: {gettext(CONTROL_RESULT_LABELS[result])}" in text


def test_missing_values_are_said_so_in_the_language_of_the_document() -> None:
    document = a_document(vehicle=None, containers=(), time_limit=None, last_control=None)

    text = text_of(render_transit_document(document, "ru"))

    assert "Не указано" in text
    assert "Нет" in text
    assert "Контроль не проводился" in text


def test_a_long_itinerary_and_many_seals_still_fit_on_one_page() -> None:
    pdf = render_transit_document(a_long_document(), "ru")
    text = text_of(pdf)

    assert pages_of(pdf) == 1
    assert "KZ-POST-00" in text
    assert "KZ-POST-19" in text
    assert re.search(r"KZSEAL-000000, KZSEAL-000001, .*ещё \d+", text)
    assert "KZSEAL-000039" not in text
    assert read_payloads(pdf) == [PAYLOAD]


def test_an_itinerary_longer_than_the_page_ends_with_how_many_were_left_out() -> None:
    offices = tuple(OfficeLine(code=f"KZ-POST-{n:03d}", name="Кеден бекеті", country="KZ") for n in range(200))

    pdf = render_transit_document(a_document(itinerary=offices), "en")
    text = text_of(pdf)

    assert pages_of(pdf) == 1
    assert re.search(r"\+\d+ more", text)
    assert "KZ-POST-000" in text


def test_long_free_text_is_cut_with_an_ellipsis_rather_than_overflowing() -> None:
    document = a_document(holder="Жібек жолы логистикасы " * 40, guarantee="GRN " * 80)

    pdf = render_transit_document(document, "kk")

    assert pages_of(pdf) == 1
    assert "…" in text_of(pdf)


def test_characters_the_font_lacks_are_replaced_not_dropped(caplog: pytest.LogCaptureFixture) -> None:
    alashankou = OfficeLine(code="CN-ALASHANKOU", name="阿拉山口", country="CN")

    with caplog.at_level(logging.WARNING):
        pdf = render_transit_document(a_document(itinerary=(alashankou, DUSHANBE)), "en")

    assert "CN-ALASHANKOU \N{REPLACEMENT CHARACTER}" in text_of(pdf)
    assert [record.getMessage() for record in caplog.records if "missing" in record.getMessage()] == []


def test_an_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="kk, ru, en"):
        render_transit_document(a_document(), "de")


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


def test_every_message_the_pdf_uses_is_in_the_catalogue() -> None:
    literal_calls = msgids_in(pdf_module.__file__)
    used = literal_calls | set(STATUS_LABELS.values()) | set(CONTROL_KIND_LABELS.values())
    used |= set(CONTROL_RESULT_LABELS.values())

    assert len(literal_calls) >= 15
    for lang in ("kk", "ru"):
        gettext = translator(lang).gettext
        assert sorted(msgid for msgid in used if gettext(msgid) == msgid and msgid != "MRN") == []


# --- fonts -----------------------------------------------------------------------------------------------


def test_without_dejavu_rendering_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FONT_DIR_VARIABLE, str(tmp_path))

    with pytest.raises(FontUnavailable, match=r"fonts-dejavu-core.*SILKWAY_PDF_FONT_DIR"):
        render_transit_document(a_document(), "en")


def test_the_font_directory_can_be_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    regular, bold = find_fonts()
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "DejaVuSans.ttf").symlink_to(regular)
    (tmp_path / "fonts" / "DejaVuSans-Bold.ttf").symlink_to(bold)
    monkeypatch.setenv(FONT_DIR_VARIABLE, str(tmp_path))

    assert find_fonts() == (tmp_path / "fonts" / "DejaVuSans.ttf", tmp_path / "fonts" / "DejaVuSans-Bold.ttf")


# --- the model -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "lost"},
        {"issued_at": datetime(2026, 11, 21, 8, 5)},  # noqa: DTZ001 - a naive time is what is refused
        {"goods_items": -1},
        {"payload": "HC1:ABC"},
        {"payload": "SW1:ÄBC"},
    ],
)
def test_a_document_refuses_values_it_could_not_print_truthfully(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        a_document(**overrides)


def test_a_control_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown control kind 'sniffed'"):
        ControlLine(office=ALMATY, kind="sniffed", result="satisfactory", at=ISSUED_AT)


# --- the QR code -----------------------------------------------------------------------------------------


def test_the_png_alone_gives_back_the_payload() -> None:
    assert read_payloads(qr_png(PAYLOAD)) == [PAYLOAD]


def test_the_payload_is_coded_alphanumerically_at_level_m() -> None:
    image = image_of(qr_png(PAYLOAD, scale=1))

    # Version 16 (81 modules and a 4-module quiet zone each side) holds 604 characters only in
    # alphanumeric mode at level M; byte mode would need version 21.
    assert image.size == (89, 89)


def test_the_svg_is_a_standalone_square_drawing() -> None:
    svg = qr_svg(PAYLOAD)

    assert svg.startswith("<svg")
    assert 'viewBox="0 0 89 89"' in svg
    assert "<?xml" not in svg


def test_a_noisy_photo_of_the_code_still_reads() -> None:
    code = image_of(qr_png(PAYLOAD)).convert("L").point(lambda value: 45 + value * 0.7)  # grey paper, grey ink
    code = code.resize((round(code.width * 1.3), round(code.height * 1.3)), Image.Resampling.BICUBIC)
    code = code.rotate(3, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=220)
    noise = Image.frombytes("L", (1200, 900), random.Random(7).randbytes(1200 * 900))
    paper = Image.blend(Image.new("L", noise.size, 150), noise, 0.3)
    paper.paste(code, (300, 200))
    photo = Image.blend(paper, noise, 0.15)
    jpeg = io.BytesIO()
    photo.save(jpeg, format="JPEG", quality=80)

    assert read_payloads(jpeg.getvalue()) == [PAYLOAD]


def test_a_code_on_a_transparent_background_reads() -> None:
    code = image_of(qr_png(PAYLOAD)).convert("L")
    transparent = Image.new("LA", code.size, (0, 0))
    transparent.putalpha(code.point(lambda value: 255 - value))

    assert read_payloads(png_of(transparent)) == [PAYLOAD]


def test_codes_are_read_in_reading_order_and_once_each() -> None:
    first, second = image_of(qr_png("SW1:FIRST")), image_of(qr_png("SW1:SECOND"))
    sheet = Image.new("L", (500, 500), 255)
    sheet.paste(second, (250, 300))
    sheet.paste(first, (260, 10))
    sheet.paste(first, (10, 250))

    assert read_payloads(png_of(sheet)) == ["SW1:FIRST", "SW1:SECOND"]


def test_pasted_text_is_the_payload() -> None:
    assert read_payloads(f"\n  {PAYLOAD}  \r\n".encode("ascii")) == [PAYLOAD]
    assert read_payloads(b"\xef\xbb\xbf" + PAYLOAD.encode("ascii")) == [PAYLOAD]


def test_a_pdf_with_only_an_owner_password_reads() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(qr_png(PAYLOAD)), x=20, y=20, w=60)
    pdf.set_encryption(owner_password="customs")

    assert read_payloads(bytes(pdf.output())) == [PAYLOAD]


# --- what cannot be read ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b" \r\n\t "])
def test_empty_input_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableDocument, match="empty") as caught:
        read_payloads(data)

    assert caught.value.reason is UnreadableReason.EMPTY


def test_an_image_without_a_qr_code_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument, match="No QR code was found in the image"):
        read_payloads(png_of(Image.new("RGB", (400, 300), "white")))


def test_a_pdf_without_images_is_unreadable() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="No QR code here")

    with pytest.raises(UnreadableDocument, match="no embedded images") as caught:
        read_payloads(bytes(pdf.output()))

    assert caught.value.reason is UnreadableReason.NO_QR_CODE


def test_a_pdf_whose_images_hold_no_qr_code_is_unreadable() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png_of(Image.new("L", (200, 200), 128))), x=20, y=20, w=60)

    with pytest.raises(UnreadableDocument, match=r"No QR code was found in the 1 image\(s\) of the PDF"):
        read_payloads(bytes(pdf.output()))


def test_a_pdf_whose_image_cannot_be_decoded_is_damaged(rendered: dict[str, bytes]) -> None:
    pdf = rendered["en"]
    assert b"/Filter /CCITTFaxDecode" in pdf  # fpdf2 stores the black-and-white code as fax data
    damaged = pdf.replace(b"/Filter /CCITTFaxDecode", b"/Filter /CCITTFaxDecodX")  # same length: offsets hold

    with pytest.raises(UnreadableDocument, match="The PDF is damaged: 1 of its pages or images") as caught:
        read_payloads(damaged)

    assert caught.value.reason is UnreadableReason.CORRUPT


def test_a_password_protected_pdf_is_unreadable() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(qr_png(PAYLOAD)), x=20, y=20, w=60)
    pdf.set_encryption(owner_password="customs", user_password="secret")

    assert reason(bytes(pdf.output())) is UnreadableReason.ENCRYPTED


def test_a_truncated_pdf_is_unreadable(rendered: dict[str, bytes]) -> None:
    with pytest.raises(UnreadableDocument, match="The PDF is truncated"):
        read_payloads(rendered["en"][: len(rendered["en"]) // 2])


def test_a_truncated_png_is_unreadable() -> None:
    with pytest.raises(UnreadableDocument, match="The image is damaged or truncated"):
        read_payloads(qr_png(PAYLOAD)[:300])


def test_a_bare_png_signature_is_a_damaged_image_not_an_unknown_format() -> None:
    assert reason(b"\x89PNG\r\n\x1a\n") is UnreadableReason.CORRUPT


def test_an_enormous_image_is_refused_before_it_is_decoded() -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = (9000).to_bytes(4, "big") + (8000).to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")

    with pytest.raises(UnreadableDocument, match="too large") as caught:
        read_payloads(png)

    assert caught.value.reason is UnreadableReason.TOO_LARGE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, customs", "The text is not a signed payload"),
        (b"SW1:ABC\nDEF", "holds line breaks"),
        (bytes(range(256)), "neither a PDF, nor an image, nor a payload"),
        ("Жібек жолы".encode(), "neither a PDF, nor an image, nor a payload"),
    ],
)
def test_what_is_neither_pdf_image_nor_payload_is_unreadable(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableDocument, match=message) as caught:
        read_payloads(data)

    assert caught.value.reason is UnreadableReason.UNRECOGNISED


@BOUNDED
@given(
    prefix=st.sampled_from([b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"II*\x00"]),
    body=st.binary(max_size=2048),
)
def test_random_bytes_are_unreadable(prefix: bytes, body: bytes) -> None:
    data = prefix + body
    assume(not data.strip().startswith(b"SW1:"))

    with pytest.raises(UnreadableDocument):
        read_payloads(data)


@BOUNDED
@given(data=st.data())
def test_every_truncation_of_the_pdf_is_unreadable(rendered: dict[str, bytes], data: st.DataObject) -> None:
    pdf = rendered["en"]
    # Whatever is cut before the end-of-file marker is complete; after it, only the line end remains.
    length = data.draw(st.integers(min_value=0, max_value=pdf.rindex(b"%%EOF") + 4))

    with pytest.raises(UnreadableDocument):
        read_payloads(pdf[:length])


@BOUNDED
@given(data=st.data())
def test_every_truncation_of_the_png_is_unreadable(data: st.DataObject) -> None:
    png = qr_png(PAYLOAD)
    # The last four bytes are the checksum of the empty end chunk, which decoders do not check.
    length = data.draw(st.integers(min_value=0, max_value=len(png) - 5))

    with pytest.raises(UnreadableDocument):
        read_payloads(png[:length])


@BOUNDED
@given(data=st.data())
def test_a_damaged_pdf_gives_the_payload_or_unreadable_never_a_library_error(
    rendered: dict[str, bytes], data: st.DataObject
) -> None:
    pdf = bytearray(rendered["en"])
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        pdf[data.draw(st.integers(min_value=0, max_value=len(pdf) - 1))] = data.draw(st.integers(0, 255))

    result = outcome(bytes(pdf))

    assert result == [PAYLOAD] or isinstance(result, UnreadableReason)
