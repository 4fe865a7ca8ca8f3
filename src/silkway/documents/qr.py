"""The QR code of a transit document: the signed payload, nothing else.

Error correction level M survives a creased or stained print; segno picks the alphanumeric mode for
an upper-case base45 payload, which keeps a ~600-character payload at version 16 (81 modules).
"""

from __future__ import annotations

from io import BytesIO

import segno

__all__ = ["qr_png", "qr_svg"]


def _symbol(payload: str) -> segno.QRCode:
    # boost_error=False: a higher level than asked for would grow the symbol without telling anyone.
    return segno.make_qr(payload, error="m", boost_error=False)


def qr_png(payload: str, *, scale: int = 4) -> bytes:
    """A black-on-white PNG of `payload`, `scale` pixels per module, with the standard 4-module quiet zone.

    Raises `segno.DataOverflowError` when `payload` does not fit in a version 40 QR code.
    """
    out = BytesIO()
    _symbol(payload).save(out, kind="png", scale=scale)
    return out.getvalue()


def qr_svg(payload: str) -> str:
    """An SVG of `payload` for web pages: sized in modules (no XML declaration), scaled by CSS."""
    out = BytesIO()
    # A white background so that the code still scans on a page with a dark theme.
    _symbol(payload).save(
        out, kind="svg", xmldecl=False, svgns=True, omitsize=True, svgclass="qr", nl=False, light="#fff"
    )
    return out.getvalue().decode("utf-8")
