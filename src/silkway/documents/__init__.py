"""Printable transit documents: the one-page PDF with its signed QR code, and reading QR codes back.

`render_transit_document` turns a `TransitDocument` into PDF bytes; `read_payloads` finds the signed
``SW1:`` payloads in a PDF, a photo or pasted text, for offline verification.
"""

from __future__ import annotations

from silkway.documents.model import ControlLine, OfficeLine, TransitDocument
from silkway.documents.pdf import FontUnavailable, find_fonts, render_transit_document
from silkway.documents.qr import qr_png, qr_svg
from silkway.documents.reading import UnreadableDocument, read_payloads
from silkway.documents.visa import EVisa, render_visa_document

__all__ = [
    "ControlLine",
    "EVisa",
    "FontUnavailable",
    "OfficeLine",
    "TransitDocument",
    "UnreadableDocument",
    "find_fonts",
    "qr_png",
    "qr_svg",
    "read_payloads",
    "render_transit_document",
    "render_visa_document",
]
