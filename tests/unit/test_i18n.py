"""Languages: the catalogues are complete, the right language is chosen, dates and numbers read as locals write them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from silkway.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    UnsupportedLanguage,
    format_date,
    format_datetime,
    format_decimal,
    negotiate,
    translator,
)

TRANSLATED = ("kk", "ru")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_0-9]+\)[sd]")
ACRONYM = re.compile(r"\b[0-9]*[A-Z][A-Z0-9]+\b|\bSilkway\b|\be-?visa\b")
"""Abbreviations (MRN, HS, QR, PDF, MRZ) and the product's name are written the same in every language."""
ROOT = Path(__file__).resolve().parents[2]
CODE_LIKE = re.compile(r"[A-Z0-9 ()/.,:;+\-–—→·]+")  # abbreviations such as "MRN" are the same in every language
KAZAKH_LETTERS = set("әғқңөұүі")  # the letters Russian lacks (һ aside, which few native words use)


def catalog(lang: str) -> Catalog:
    po = resources.files("silkway.i18n").joinpath("locales", lang, "LC_MESSAGES", "messages.po")
    with po.open("rb") as source:
        return read_po(source, locale=lang)


def msgids(lang: str) -> set[str]:
    """The msgids of a catalogue; a plural message counts by its singular."""
    return {
        str(message.id[0] if isinstance(message.id, tuple) else message.id) for message in catalog(lang) if message.id
    }


def translations(lang: str) -> dict[str, str]:
    """msgid → translation; a plural message by its singular, its forms joined by " | "."""
    found: dict[str, str] = {}
    for message in catalog(lang):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = [str(form) for form in message.string]
            found[str(message.id[0])] = " | ".join(forms) if all(forms) else ""
        else:
            found[str(message.id)] = str(message.string)
    return found


def is_code_like(text: str) -> bool:
    return CODE_LIKE.fullmatch(PLACEHOLDER.sub("", text)) is not None


# --- the catalogues -----------------------------------------------------------------------------------


def test_english_is_the_source_with_a_useful_number_of_messages() -> None:
    english = catalog("en")

    assert len(msgids("en")) >= 30
    assert all(not message.string or not any(message.string) for message in english if message.id)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_english_message_has_a_translation(lang: str) -> None:
    translated = translations(lang)

    missing = sorted(msgid for msgid in msgids("en") if not translated.get(msgid, "").strip())

    assert missing == []


def used_msgids() -> set[str]:
    """Every msgid the code and the templates ask for, found as `make messages` finds them (babel.cfg)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_extraction_finds_the_pages_and_the_documents() -> None:
    used = used_msgids()

    assert {"Sign in", "Transit accompanying document", "Physical inspection"} <= used


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_the_code_and_pages_use_is_in_the_catalogue(lang: str) -> None:
    missing = sorted(used_msgids() - msgids(lang))

    assert missing == [], "run `make messages` and translate the new words"


def test_the_catalogues_hold_no_word_nothing_uses() -> None:
    assert sorted(msgids("en") - used_msgids()) == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_message_is_left_in_english(lang: str) -> None:
    untranslated = sorted(
        msgid for msgid, text in translations(lang).items() if text == msgid and not is_code_like(msgid)
    )

    assert untranslated == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_are_in_cyrillic_with_no_latin_words(lang: str) -> None:
    latin = sorted(
        text
        for text in translations(lang).values()
        if not is_code_like(text) and re.search(r"[A-Za-z]", ACRONYM.sub("", PLACEHOLDER.sub("", text)))
    )

    assert latin == []


def test_kazakh_is_written_with_kazakh_letters() -> None:
    letters = set("".join(translations("kk").values()).lower())

    assert KAZAKH_LETTERS - letters == set()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogues_hold_no_stale_messages(lang: str) -> None:
    assert msgids(lang) == msgids("en")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_the_placeholders(lang: str) -> None:
    changed = {
        msgid: text
        for msgid, text in translations(lang).items()
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid))
    }

    assert changed == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_translation_is_fuzzy(lang: str) -> None:
    assert [message.id for message in catalog(lang) if message.id and message.fuzzy] == []


# --- translator -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("kk", "Транзиттік ілеспе құжат"),
        ("ru", "Транзитный сопроводительный документ"),
        ("en", "Transit accompanying document"),
    ],
)
def test_translator_translates_from_the_po_files(lang: str, expected: str) -> None:
    assert translator(lang).gettext("Transit accompanying document") == expected


def test_translator_formats_placeholders_after_translation() -> None:
    assert translator("ru").gettext("+{count} more").format(count=7) == "ещё 7"


def test_translator_is_built_once_per_language() -> None:
    assert translator("kk") is translator("kk")


def test_translator_refuses_a_language_it_does_not_have() -> None:
    with pytest.raises(UnsupportedLanguage, match="kk, ru, en"):
        translator("de")


# --- negotiate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "accept_language", "expected"),
    [
        ("ru", "kk,en;q=0.9", "ru"),
        ("KK", None, "kk"),
        ("ru-RU", None, "ru"),
        ("kk_Cyrl_KZ", None, "kk"),
        ("", "kk", "kk"),
        ("  ", "ru", "ru"),
        (None, "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        (None, "en;q=0.5, kk;q=0.8", "kk"),
        (None, "de, fr;q=0.9, ru;q=0.1", "ru"),
        (None, "ru, kk", "ru"),
        (None, "kk;q=0, ru;q=0.2", "ru"),
        (None, "kk;q=bad, ru;q=0.2", "ru"),
        (None, "kk;q=1.5, ru;q=0.2", "ru"),
        (None, "de, *;q=0.5", DEFAULT_LANGUAGE),
        (None, "de, fr", DEFAULT_LANGUAGE),
        (None, ", ;q=1,", DEFAULT_LANGUAGE),
        (None, "", DEFAULT_LANGUAGE),
        (None, None, DEFAULT_LANGUAGE),
    ],
)
def test_negotiate(lang: str | None, accept_language: str | None, expected: str) -> None:
    assert negotiate(lang, accept_language) == expected


def test_an_unsupported_explicit_language_is_an_error_naming_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"unsupported language 'de': Silkway speaks kk, ru, en"):
        negotiate("de", "ru")


def test_the_default_language_is_english() -> None:
    assert DEFAULT_LANGUAGE == "en"
    assert LANGUAGES == ("kk", "ru", "en")


# --- formatting -----------------------------------------------------------------------------------------

MOMENT = datetime(2026, 11, 28, 18, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("kk", "2026\N{NARROW NO-BREAK SPACE}ж. 28 қар., 18:05 UTC"),
        ("ru", "28 нояб. 2026\N{NARROW NO-BREAK SPACE}г., 18:05 UTC"),
        ("en", "Nov 28, 2026, 6:05\N{NARROW NO-BREAK SPACE}PM UTC"),
    ],
)
def test_format_datetime_writes_the_locale_date_and_time_in_utc(lang: str, expected: str) -> None:
    assert format_datetime(MOMENT, lang) == expected


def test_format_datetime_moves_other_zones_to_utc() -> None:
    almaty = MOMENT.astimezone(timezone(timedelta(hours=5)))

    assert format_datetime(almaty, "ru") == format_datetime(MOMENT, "ru")


def test_format_datetime_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        format_datetime(datetime(2026, 11, 28, 18, 5), "en")  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("kk", "2026\N{NARROW NO-BREAK SPACE}ж. 28 қар."),
        ("ru", "28 нояб. 2026\N{NARROW NO-BREAK SPACE}г."),
        ("en", "Nov 28, 2026"),
    ],
)
def test_format_date(lang: str, expected: str) -> None:
    assert format_date(date(2026, 11, 28), lang) == expected


def test_format_date_takes_the_utc_day_of_a_datetime() -> None:
    just_after_midnight_in_almaty = datetime(2026, 11, 29, 0, 30, tzinfo=timezone(timedelta(hours=5)))

    assert format_date(just_after_midnight_in_almaty, "en") == "Nov 28, 2026"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("kk", "18\N{NO-BREAK SPACE}250,5"), ("ru", "18\N{NO-BREAK SPACE}250,5"), ("en", "18,250.5")],
)
def test_format_decimal(lang: str, expected: str) -> None:
    assert format_decimal(Decimal("18250.5"), lang) == expected


def test_formatters_refuse_an_unsupported_language() -> None:
    with pytest.raises(UnsupportedLanguage):
        format_decimal(1, "uz")
