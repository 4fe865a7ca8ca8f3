"""Movement reference numbers and money: the value types every record carries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from stdnum.iso7064 import mod_37_36

from silkway.shared.errors import InvalidInput
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn

# --- Mrn --------------------------------------------------------------------------------------------


def test_issue_builds_year_country_serial_and_check_character() -> None:
    mrn = Mrn.issue(year=2026, country="KZ", serial=1)

    assert mrn == "26KZ0000000000001A"
    assert (mrn.year, mrn.country) == (2026, "KZ")
    assert mod_37_36.is_valid(mrn)


def test_issue_writes_the_serial_in_base_36() -> None:
    mrn = Mrn.issue(year=2027, country="UZ", serial=36 + 35)

    assert mrn[4:17] == "00000000000" + "1Z"


@pytest.mark.parametrize("serial", [1, 35, 36, 1_000_000, 36**13 - 1])
def test_issued_mrn_parses_back_to_itself(serial: int) -> None:
    mrn = Mrn.issue(year=2026, country="TJ", serial=serial)

    assert Mrn(str(mrn)) == mrn
    assert len(Mrn(str(mrn))) == 18


@pytest.mark.parametrize("serial", [0, -1, 36**13])
def test_issue_refuses_a_serial_out_of_range(serial: int) -> None:
    with pytest.raises(ValueError, match="serial out of range"):
        Mrn.issue(year=2026, country="KZ", serial=serial)


def test_a_wrong_check_character_is_refused_naming_the_expected_one() -> None:
    mrn = Mrn.issue(year=2026, country="KZ", serial=1)
    wrong = mrn[:-1] + ("B" if mrn[-1] != "B" else "C")

    with pytest.raises(InvalidInput) as caught:
        Mrn(wrong)

    assert f"(expected {mrn[-1]!r})" in caught.value.detail
    assert caught.value.fields == {"mrn": "bad check character"}


def test_one_mistyped_character_in_the_body_is_caught() -> None:
    mrn = Mrn.issue(year=2026, country="KZ", serial=123456)
    typo = mrn[:10] + ("7" if mrn[10] != "7" else "8") + mrn[11:]

    with pytest.raises(InvalidInput, match="check character is wrong"):
        Mrn(typo)


def test_lower_case_and_spaces_are_normalised() -> None:
    mrn = Mrn.issue(year=2026, country="KZ", serial=42)
    typed = f"  {mrn[:4].lower()} {mrn[4:10].lower()}\t{mrn[10:]} "

    assert Mrn(typed) == mrn
    assert str(Mrn(typed)) == str(mrn)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "26KZ000000000001A",  # 17 characters
        "26KZ00000000000001A",  # 19 characters
        "2XKZ0000000000001A",  # year not digits
        "261Z0000000000001A",  # country not letters
        "26KZ000000000000-1",  # serial with a dash
        "26KZ0000000000001*",  # check character outside 0-9A-Z
    ],
)
def test_malformed_shapes_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="is not an MRN") as caught:
        Mrn(text)

    assert caught.value.fields == {"mrn": "malformed"}


# --- Money ------------------------------------------------------------------------------------------


def test_money_of_text_keeps_the_exact_amount() -> None:
    money = Money.of("1234.50", "USD")

    assert money.amount == Decimal("1234.50")
    assert str(money) == "1234.50 USD"


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(InvalidInput, match="negative") as caught:
        Money.of("-0.01", "USD")

    assert caught.value.fields == {"amount": "negative"}


@pytest.mark.parametrize("amount", ["0.001", "1.005", "12.345"])
def test_more_than_two_decimals_are_refused(amount: str) -> None:
    with pytest.raises(InvalidInput, match="more than two decimals") as caught:
        Money.of(amount, "KZT")

    assert caught.value.fields == {"amount": "too precise"}


@pytest.mark.parametrize("amount", ["0", "0.5", "0.01", "999999999999999.99"])
def test_amounts_with_up_to_two_decimals_pass(amount: str) -> None:
    assert Money.of(amount, "UZS").amount == Decimal(amount)


@pytest.mark.parametrize("amount", ["abc", "", "1,50"])
def test_text_that_is_not_a_number_is_refused(amount: str) -> None:
    with pytest.raises(InvalidInput, match="is not an amount") as caught:
        Money.of(amount, "USD")

    assert caught.value.fields == {"amount": "not a number"}


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_amounts_that_are_not_finite_are_refused(amount: str) -> None:
    with pytest.raises(InvalidInput, match="finite decimal"):
        Money.of(amount, "USD")


def test_an_implausibly_large_amount_is_refused() -> None:
    with pytest.raises(InvalidInput, match="implausibly large"):
        Money.of("1e15", "USD")


@pytest.mark.parametrize("currency", ["usd", "US", "USDT", "U5D", "", " USD"])
def test_a_currency_not_written_as_three_capital_letters_is_refused(currency: str) -> None:
    with pytest.raises(InvalidInput, match="is not an ISO 4217 currency code") as caught:
        Money.of("10", currency)

    assert caught.value.fields == {"currency": "unknown currency"}


# --- shapes a loose pattern would let through ------------------------------------------------------


def test_an_mrn_with_arabic_indic_digits_is_refused_as_input() -> None:
    # `\d` matches any Unicode digit: "٢٦" must not pass as the year (stdnum would then raise a
    # ValueError computing the expected check character, instead of InvalidInput)
    with pytest.raises(InvalidInput):
        Mrn("٢٦KZ0000000000001A")


def test_a_currency_with_a_trailing_newline_is_refused() -> None:
    # `$` matches just before a final newline, so the shape must be matched in full
    with pytest.raises(InvalidInput):
        Money.of("10", "USD\n")
