"""Languages of Silkway's documents and pages: Kazakh (Cyrillic), Russian and English.

English msgids in ``locales/<lang>/LC_MESSAGES/messages.po`` are the source text. Catalogues are read
and compiled in memory on first use, so a checkout needs no ``pybabel compile`` step.

Dates and times are shown in UTC, always with the zone written out: a transit crosses several time
zones, and a document read at the border must not be ambiguous about when a time limit runs out.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from io import BytesIO

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_time as _babel_format_time
from babel.dates import get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as _babel_format_decimal
from babel.support import Translations

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "UnsupportedLanguage",
    "format_date",
    "format_datetime",
    "format_decimal",
    "negotiate",
    "translator",
]

LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")
"""The supported languages, as ISO 639-1 codes; ``kk`` is Kazakh in Cyrillic script."""

DEFAULT_LANGUAGE = "en"

_DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional marker name, which extraction looks for
    """Mark `message` for the catalogues without translating it here: it is translated where it is shown."""
    return message


class UnsupportedLanguage(ValueError):
    """A language was asked for explicitly that Silkway does not speak."""

    def __init__(self, lang: str) -> None:
        super().__init__(f"unsupported language {lang!r}: Silkway speaks {', '.join(LANGUAGES)}")
        self.lang = lang


def _supported(tag: str) -> str | None:
    """The supported language a BCP 47 tag (``ru``, ``ru-RU``, ``kk_Cyrl_KZ``) falls under, if any."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def negotiate(lang: str | None, accept_language: str | None) -> str:
    """The language to answer in.

    An explicit `lang` (a query parameter, a CLI option) wins; a region or script suffix is ignored,
    so ``ru-RU`` gives ``ru``. A blank `lang` counts as not given. Otherwise the best supported
    language of the `accept_language` header is taken by q-value (ties keep header order; ``q=0``
    and malformed entries are skipped; ``*`` means the default), else `DEFAULT_LANGUAGE`.

    Raises `UnsupportedLanguage` (a `ValueError`) when `lang` is given and not supported, because
    a document silently printed in another language than the one asked for is worse than an error.
    """
    if lang is not None and lang.strip():
        chosen = _supported(lang)
        if chosen is None:
            raise UnsupportedLanguage(lang)
        return chosen
    for tag in _ranked_tags(accept_language or ""):
        if tag == "*":
            return DEFAULT_LANGUAGE
        chosen = _supported(tag)
        if chosen is not None:
            return chosen
    return DEFAULT_LANGUAGE


def _ranked_tags(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (RFC 9110 §12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for position, entry in enumerate(header.split(",")):
        tag, *params = (part.strip() for part in entry.split(";"))
        if not tag:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 < quality <= 1.0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


@functools.cache
def translator(lang: str) -> Translations:
    """The message catalogue of `lang`, compiled once per process.

    Raises `UnsupportedLanguage` for a language not in `LANGUAGES`.
    """
    if lang not in LANGUAGES:
        raise UnsupportedLanguage(lang)
    source = resources.files(__name__).joinpath("locales", lang, "LC_MESSAGES", f"{_DOMAIN}.po")
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang, domain=_DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=_DOMAIN)


def _locale(lang: str) -> Locale:
    if lang not in LANGUAGES:
        raise UnsupportedLanguage(lang)
    return Locale.parse(lang)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no time zone: Silkway only shows timezone-aware times")
    return value.astimezone(UTC)


def format_datetime(value: datetime, lang: str) -> str:
    """`value` in UTC as the locale writes a medium date and a short time, then ``UTC``.

    For example ``21 нояб. 2026 г., 08:05 UTC``. Raises `ValueError` for a naive datetime and
    `UnsupportedLanguage` for an unknown `lang`.
    """
    locale = _locale(lang)
    moment = _utc(value)
    pattern = str(get_datetime_format("medium", locale=locale))  # "{1}, {0}": date, then time
    day = _babel_format_date(moment.date(), "medium", locale=locale)
    time = _babel_format_time(moment.time(), "short", locale=locale)
    return pattern.replace("{1}", day).replace("{0}", time) + " UTC"


def format_date(value: date | datetime, lang: str) -> str:
    """`value` as the locale writes a medium date; a datetime is first moved to UTC.

    Raises `ValueError` for a naive datetime and `UnsupportedLanguage` for an unknown `lang`.
    """
    locale = _locale(lang)
    day = _utc(value).date() if isinstance(value, datetime) else value
    return _babel_format_date(day, "medium", locale=locale)


def format_decimal(value: Decimal | int | float, lang: str) -> str:
    """`value` with the locale's grouping and decimal signs (``12 345,5`` in kk and ru)."""
    return _babel_format_decimal(value, locale=_locale(lang))
