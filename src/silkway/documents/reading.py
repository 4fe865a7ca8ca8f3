"""Reading signed payloads back from what an officer has at hand: the PDF, a photo of it, or the text.

PDF parsers, image decoders and the QR reader fail on bad input in many ways of their own; every one
of those failures becomes an `UnreadableDocument` with a reason a person can act on, so that callers
need to handle a single error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from io import BytesIO
from itertools import islice

import zxingcpp
from PIL import Image, ImageSequence, UnidentifiedImageError
from pypdf import PdfReader

from silkway.documents.model import PAYLOAD_PREFIX
from silkway.signing.vds import PREFIX as VISA_PREFIX

__all__ = ["UnreadableDocument", "UnreadableReason", "read_payloads"]

_MAX_PIXELS = 64_000_000  # more than a 50-megapixel phone photo, less than Pillow's bomb warning
_MAX_FRAMES = 16  # pages of a multi-page TIFF scan
_MAX_PAGES = 20
_MAX_PDF_IMAGES = 100
_EOF_WINDOW = 1024  # readers look for %%EOF in the last kilobyte
_QR_CODES = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
# Signatures of common image formats, to call a file cut short "damaged" rather than "not an image".
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


class UnreadableReason(StrEnum):
    """Why no payload could be read; stable codes for callers to map to messages or status codes."""

    EMPTY = "empty"
    UNRECOGNISED = "unrecognised"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"
    NO_QR_CODE = "no_qr_code"


class UnreadableDocument(ValueError):
    """No signed payload could be read from the input; `reason` says why, the message says it for people."""

    def __init__(self, reason: UnreadableReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def read_payloads(data: bytes) -> list[str]:
    """The texts of the QR codes in `data`, in reading order and without repeats.

    `data` may be a PDF (the QR codes of its embedded images are read), an image Pillow can open
    (PNG, JPEG, WebP, …; a photo of a printed document will do), or text whose stripped content is a
    payload starting with ``SW1:`` (a transit document's seal) or ``SWV1:`` (a visa's), returned as it is.
    Nothing here checks signatures.

    On failure — empty input, input that is none of these, a damaged, truncated, encrypted or
    oversized file, or no QR code found — raises `UnreadableDocument`.
    """
    if not data.strip():
        raise UnreadableDocument(
            UnreadableReason.EMPTY,
            "The document is empty: expected a PDF, an image of a QR code "
            f"or a payload starting with {PAYLOAD_PREFIX!r}",
        )
    text = _ascii_text(data)
    if text is not None and text.startswith((PAYLOAD_PREFIX, VISA_PREFIX)):
        if not text.isprintable():
            raise UnreadableDocument(
                UnreadableReason.UNRECOGNISED,
                "The text starts like a payload but holds line breaks or control characters; "
                "a payload is a single line",
            )
        return [text]
    if data.lstrip().startswith(b"%PDF"):
        return _from_pdf(data)
    image = _open_image(data)
    if image is None:
        if text is not None:
            raise UnreadableDocument(
                UnreadableReason.UNRECOGNISED,
                f"The text is not a signed payload: a payload starts with {PAYLOAD_PREFIX!r} or {VISA_PREFIX!r}",
            )
        raise UnreadableDocument(
            UnreadableReason.UNRECOGNISED,
            f"The document is neither a PDF, nor an image, nor a payload starting with {PAYLOAD_PREFIX!r}",
        )
    payloads = _unique(_decode_frames(image))
    if not payloads:
        raise UnreadableDocument(UnreadableReason.NO_QR_CODE, "No QR code was found in the image")
    return payloads


def _ascii_text(data: bytes) -> str | None:
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("ascii").strip()
    except UnicodeDecodeError:
        return None


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


# --- images -----------------------------------------------------------------------------------------


def _open_image(data: bytes) -> Image.Image | None:
    """The decoded image in `data`, or None when Pillow does not recognise it as an image at all."""
    try:
        probe = Image.open(BytesIO(data))
    except UnidentifiedImageError as exc:
        if data.startswith(_IMAGE_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise _corrupt_image(exc) from exc
        return None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except Exception as exc:  # Pillow's plugins raise many kinds of error on a damaged header
        raise _corrupt_image(exc) from exc
    if probe.width * probe.height > _MAX_PIXELS:
        raise _too_large()
    try:
        # verify() checks what decoding alone forgives (a PNG's checksums and end chunk), then a
        # fresh open decodes the pixels; a truncated file fails one or the other.
        probe.verify()
        image = Image.open(BytesIO(data))
        image.load()
    except Exception as exc:  # see above: any failure here means the file is damaged
        raise _corrupt_image(exc) from exc
    return image


def _too_large() -> UnreadableDocument:
    return UnreadableDocument(
        UnreadableReason.TOO_LARGE, f"The image is too large to read: more than {_MAX_PIXELS:,} pixels"
    )


def _corrupt_image(exc: Exception) -> UnreadableDocument:
    return UnreadableDocument(UnreadableReason.CORRUPT, f"The image is damaged or truncated ({_describe(exc)})")


def _decode_frames(image: Image.Image) -> Iterator[str]:
    """The QR codes of each frame (each page of a multi-page TIFF, say)."""
    frames = ImageSequence.Iterator(image)
    for _ in range(_MAX_FRAMES):
        try:
            frame = next(frames, None)
        except Exception as exc:  # a damaged frame Pillow only notices when it seeks to it
            raise _corrupt_image(exc) from exc
        if frame is None:
            return
        yield from _decode(frame)


def _decode(image: Image.Image) -> list[str]:
    try:
        greyscale = _greyscale(image)
        found = zxingcpp.read_barcodes(greyscale, formats=_QR_CODES)
    except Exception as exc:  # a damaged frame Pillow only notices when converting
        raise _corrupt_image(exc) from exc
    return [barcode.text for barcode in sorted(found, key=_reading_order)]


def _reading_order(barcode: zxingcpp.Barcode) -> tuple[int, int]:
    """Top to bottom, then left to right, by the symbol's upper-left-most corner, whatever its rotation."""
    position = barcode.position
    corners = (position.top_left, position.top_right, position.bottom_left, position.bottom_right)
    return min(point.y for point in corners), min(point.x for point in corners)


def _greyscale(image: Image.Image) -> Image.Image:
    """`image` in 8-bit grey, transparent parts on white: a dark code on a transparent background stays readable."""
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image.convert("L")


# --- PDF --------------------------------------------------------------------------------------------


def _from_pdf(data: bytes) -> list[str]:
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise UnreadableDocument(
            UnreadableReason.CORRUPT, "The PDF is truncated: it does not end with an end-of-file marker"
        )
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(UnreadableReason.ENCRYPTED, "The PDF is protected by a password")
        pages = list(islice(reader.pages, _MAX_PAGES))
    except UnreadableDocument:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on a damaged file
        raise UnreadableDocument(UnreadableReason.CORRUPT, f"The PDF is damaged ({_describe(exc)})") from exc

    payloads: list[str] = []
    examined = damaged = 0
    for page in pages:
        try:
            images = page.images
            count = len(images)
        except Exception:  # a damaged page: look at the others
            damaged += 1
            continue
        for index in range(count):
            if examined >= _MAX_PDF_IMAGES:
                break
            try:
                image = images[index].image
                found = _decode(image) if image is not None else []
            except Exception:  # a damaged or unsupported image (JBIG2, say): look at the others
                damaged += 1
                continue
            examined += 1
            payloads.extend(found)
    if payloads:
        return _unique(payloads)
    if damaged:
        raise UnreadableDocument(
            UnreadableReason.CORRUPT,
            f"The PDF is damaged: {damaged} of its pages or images could not be read, and no QR code was found",
        )
    if not examined:
        raise UnreadableDocument(
            UnreadableReason.NO_QR_CODE,
            "No QR code was found: the PDF has no embedded images (a QR code drawn as vector graphics is not read)",
        )
    raise UnreadableDocument(UnreadableReason.NO_QR_CODE, f"No QR code was found in the {examined} image(s) of the PDF")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
