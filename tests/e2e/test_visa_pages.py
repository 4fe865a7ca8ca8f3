"""The Commonwealth Visa's pages without a browser: the traveller's application and status pages, the consul's
queue, examination, decision, consultation and revocation, and the border guard's check.

Each form is sent with every kind of bad input: the answer names the field in the visitor's language, keeps
what was typed, and nothing is written. Rights are checked for anonymous visitors, other roles and other
states. Dates are worked out from the `clock` fixture's day (2026-11-21).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from visawalk import Traveller, application

from silkway.services import Services
from silkway.shared.clock import FixedClock
from silkway.visas.model import REFUSAL_GROUNDS
from silkway.web.app import create_app
from silkway.web.pages.visa_words import GROUNDS

TODAY = date(2026, 11, 21)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CHECK_KEY = re.compile(r'name="check_key" value="([^"]+)"')

FORM: dict[str, str] = {
    "surname": "SHARMA",
    "given_names": "PRIYA",
    "native_name": "प्रिया शर्मा",
    "nationality": "IND",
    "date_of_birth": "1990-04-12",
    "sex": "F",
    "passport_number": "Z1234567",
    "passport_expiry": "2031-03-31",
    "states[0]": "KZ",
    "states[1]": "KG",
    "states[2]": "UZ",
    "main_destination": "KZ",
    "from": "2026-12-01",
    "to": "2027-01-20",
    "entries": "multiple",
    "purpose": "tourism",
}
ISSUE = {
    "decision": "issue",
    "valid_from": "2026-12-01",
    "valid_until": "2027-02-28",
    "duration_of_stay_days": "60",
    "entries": "multiple",
}


# --- reading pages ---------------------------------------------------------------------------------------------


class Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: list[Node | str] = []

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()


class Page:
    """A page as a small tree: elements by id, by class, and their text."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self, html: str) -> None:
        self.root = Node("#document", {})
        stack = [self.root]
        void = self.VOID

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                node = Node(tag, {k: v or "" for k, v in attrs})
                stack[-1].children.append(node)
                if tag not in void:
                    stack.append(node)

            def handle_endtag(self, tag: str) -> None:
                for i in range(len(stack) - 1, 0, -1):
                    if stack[i].tag == tag:
                        del stack[i:]
                        break

            def handle_data(self, data: str) -> None:
                stack[-1].children.append(data)

        Parser(convert_charrefs=True).feed(html)

    def by_id(self, element_id: str) -> Node:
        for node in self.root.walk():
            if node.attrs.get("id") == element_id:
                return node
        raise AssertionError(f"no element #{element_id}")

    def has(self, element_id: str) -> bool:
        return any(node.attrs.get("id") == element_id for node in self.root.walk())

    def of_class(self, name: str) -> list[Node]:
        return [n for n in self.root.walk() if name in n.attrs.get("class", "").split()]

    def errors(self) -> dict[str, str]:
        """Each marked field's id → the message beside it."""
        return {
            n.attrs["id"].removesuffix("-error"): n.text
            for n in self.of_class("error")
            if n.attrs.get("id", "").endswith("-error")
        }

    def invalid(self) -> set[str]:
        return {n.attrs["id"] for n in self.root.walk() if n.attrs.get("aria-invalid") == "true"}

    def value(self, element_id: str) -> str:
        return self.by_id(element_id).attrs.get("value", "")

    def words(self) -> str:
        return self.root.text

    def decision(self) -> str:
        return " ".join(n.text for n in self.of_class("decision-word"))

    def lang(self) -> str:
        return next(n for n in self.root.walk() if n.tag == "html").attrs["lang"]


class Visitor:
    """A browser without JavaScript: its own cookies, signed in as one account or anonymous."""

    def __init__(self, client: TestClient, username: str | None = None) -> None:
        self.client = client
        if username is not None:
            response = client.post(
                "/signin",
                data={"csrf": self.csrf(), "username": username, "password": "demo"},
                follow_redirects=False,
            )
            assert response.status_code == 303, response.text

    def csrf(self, path: str = "/signin") -> str:
        found = CSRF.search(self.client.get(path).text)
        assert found is not None, path
        return found.group(1)

    def get(self, path: str, expect: int = 200, **params: Any) -> Page:
        response = self.client.get(path, params=params or None, follow_redirects=False)
        assert response.status_code == expect, (path, response.status_code, response.text[:3000])
        return Page(response.text)

    def post(self, path: str, data: dict[str, Any], expect: int, *, form: str | None = None, **kw: Any) -> Any:
        """POST `data` with the CSRF token of the page `form` (default: `path`); `expect` the status."""
        body = {"csrf": self.csrf(form or path), **data}
        response = self.client.post(path, data=body, follow_redirects=False, **kw)
        assert response.status_code == expect, (path, response.status_code, response.text[:3000])
        return response


@pytest.fixture
def visitors(services: Services) -> Iterator[Any]:
    """A factory of visitors, each with its own client (cookies): ``visitors("consul-kz")``."""
    clients: list[TestClient] = []

    def make(username: str | None = None) -> Visitor:
        client = TestClient(create_app(services), raise_server_exceptions=False)
        clients.append(client)
        return Visitor(client, username)

    yield make
    for client in clients:
        client.close()


def lodge(traveller: Visitor, **changes: str) -> tuple[str, str]:
    """Apply through the page; the application's id and status token from the confirmation's address."""
    response = traveller.post("/visa/apply", {**FORM, **changes}, 303, form="/visa/apply")
    found = re.fullmatch(r"/visa/status/([0-9a-f]+)/lodged\?token=([\w-]+)", response.headers["location"])
    assert found is not None, response.headers["location"]
    return found.group(1), found.group(2)


def count(services: Services, state: str = "KZ") -> int:
    return services.visa_queries.applications(state, limit=200)[1]


def status_of(services: Services, application_id: str) -> str:
    found = services.visa_queries.application(application_id)
    assert found is not None
    return found[0].status.value


def crossings(services: Services, passport: str = "Z1234567", nationality: str = "IND") -> list[tuple[str, str]]:
    return [(c.state, c.direction.value) for c in services.visa_queries.crossings_of(passport, nationality)]


# --- the traveller: applying -----------------------------------------------------------------------------------


def test_the_application_form_asks_for_everything_the_application_takes(visitors: Any) -> None:
    page = visitors().get("/visa/apply", lang="ru")
    assert page.lang() == "ru"
    for name in (
        "surname",
        "given_names",
        "native_name",
        "nationality",
        "date_of_birth",
        "sex",
        "passport_number",
        "passport_expiry",
        "from",
        "to",
        "purpose",
        "entries",
        "main_destination",
        "states-0",
        "itinerary-0-from",
        "itinerary-0-to",
        "states-9",
    ):
        assert page.has(f"f-{name}"), name
    nationality = page.by_id("f-nationality")
    codes = [o.attrs["value"] for o in nationality.walk() if o.tag == "option"]
    assert {"IND", "DEU", "AFG", "XXA"} <= set(codes)
    assert "Индия" in nationality.text  # country names in the visitor's language
    states = [o.attrs["value"] for o in page.by_id("f-states-0").walk() if o.tag == "option"]
    assert states == ["", "KZ", "UZ", "KG", "TJ", "TM", "AZ", "AM", "BY", "MD", "RU"]
    assert page.by_id("mrz-preview").attrs["aria-live"] == "polite"


def test_lodging_shows_the_secret_link_once_and_the_status_page_opens_with_it(
    visitors: Any, services: Services
) -> None:
    traveller = visitors()
    application_id, token = lodge(traveller)

    confirmation = traveller.get(f"/visa/status/{application_id}/lodged", token=token)
    link = confirmation.by_id("status-link")
    assert link.text == f"http://testserver/visa/status/{application_id}?token={token}"
    assert "Keep this link" in confirmation.words()
    assert "Kazakhstan" in confirmation.words()  # the competent state: the main destination named
    assert count(services) == 1

    status = visitors().get(f"/visa/status/{application_id}", token=token)
    assert status.decision() == "Lodged"
    assert "SHARMA" in status.words()
    assert "Kazakhstan, Kyrgyzstan, Uzbekistan" in status.words()
    data = visitors().get(f"/visa/status/{application_id}/data", token=token)
    assert "Application lodged" in data.words()
    assert "Z1234567" in data.words()  # everything stored, the passport number included


def test_a_wrong_token_gets_the_same_404_page_as_an_unknown_application(visitors: Any, services: Services) -> None:
    application_id, token = lodge(visitors())
    stranger = visitors()
    wrong = stranger.get(f"/visa/status/{application_id}", 404, token=token[:-1] + ("A" if token[-1] != "A" else "B"))
    unknown = stranger.get("/visa/status/0123456789abcdef", 404, token=token)
    none = stranger.get(f"/visa/status/{application_id}", 404)
    assert wrong.by_id("main").text.replace(application_id, "ID") == unknown.by_id("main").text.replace(
        "0123456789abcdef", "ID"
    )
    assert none.by_id("main").text == wrong.by_id("main").text
    for path in ("data", "evisa.pdf", "lodged"):
        stranger.get(f"/visa/status/{application_id}/{path}", 404, token="wrong")
    ru = stranger.get(f"/visa/status/{application_id}", 404, token="wrong", lang="ru")
    assert "Заявление с таким номером и ссылкой не найдено." in ru.words()


def test_the_status_link_is_remembered_for_that_application_only(visitors: Any) -> None:
    traveller = visitors()
    first, _ = lodge(traveller)
    second, _ = lodge(visitors(), passport_number="Y7654321")
    # the language switch drops the query: the cookie scoped to the application keeps the way in
    assert traveller.get(f"/visa/status/{first}", lang="kk").lang() == "kk"
    traveller.get(f"/visa/status/{second}", 404)


def test_the_live_mrz_preview_transliterates_fills_and_cuts_as_icao_says(visitors: Any) -> None:
    client = visitors().client
    kazakh = client.get("/visa/apply/mrz-name", params={"surname": "Жұмабаев", "given_names": "Ерлан Қайратұлы"})
    assert kazakh.json()["zone"] == "ZHUMABAEV<<ERLAN<KAIRATULY" + "<" * 13
    assert kazakh.json()["truncated"] == ""
    long = client.get(
        "/visa/apply/mrz-name", params={"surname": "Nilavadhanananda", "given_names": "Chayapa Dejthamrong Krasuang"}
    ).json()
    assert long["zone"] == "NILAVADHANANANDA<<CHAYAPA<DEJTHAMRONG<K"  # ICAO 9303 Part 7's own example
    assert long["truncated"]
    chinese = client.get("/visa/apply/mrz-name", params={"surname": "王", "given_names": "", "lang": "ru"}).json()
    assert (chinese["ok"], chinese["field"]) == (False, "surname")
    assert "«王»" in chinese["message"]
    digit = client.get("/visa/apply/mrz-name", params={"surname": "Smith", "given_names": "Anna2"}).json()
    assert (digit["ok"], digit["field"]) == (False, "given_names")
    assert client.get("/visa/apply/mrz-name", params={"surname": ""}).json() == {
        "ok": False,
        "field": None,
        "message": "",
    }
    assert "/visa/apply/mrz-name" not in client.get("/openapi.json").text


BAD_APPLICATIONS = [
    # (id, changes, the marked field, the sentence beside it)
    ("no surname", {"surname": ""}, "surname", "This field is required."),
    ("no nationality", {"nationality": ""}, "nationality", "This field is required."),
    ("unknown nationality", {"nationality": "XYZ"}, "nationality", "Choose a nationality from the list."),
    ("nationality needing no visa", {"nationality": "RUS"}, "nationality", "need no visa"),
    (
        "nationality not eligible",
        {"nationality": "ARM", "states[0]": "AZ", "states[1]": "", "states[2]": "", "main_destination": ""},
        "states",
        "cannot get the Commonwealth Visa",
    ),
    ("no date of birth", {"date_of_birth": ""}, "date_of_birth", "This field is required."),
    ("a date that is no date", {"date_of_birth": "1990-02-31"}, "date_of_birth", "not in the expected format"),
    ("born tomorrow", {"date_of_birth": "2026-11-22"}, "date_of_birth", "cannot be in the future"),
    ("no sex", {"sex": ""}, "sex", "This field is required."),
    ("a sex the MRZ has not", {"sex": "Q"}, "sex", "not in the expected format"),
    ("a malformed passport number", {"passport_number": "Z123-4567!"}, "passport_number", "1 to 9 Latin letters"),
    ("an expired passport", {"passport_expiry": "2026-11-01"}, "passport_expiry", "The passport has expired."),
    ("a passport expiring too soon", {"passport_expiry": "2027-02-01"}, "passport_expiry", "at least 90 days"),
    ("a stay in the past", {"from": "2026-11-20"}, "from", "cannot start before today"),
    ("dates in the wrong order", {"from": "2026-12-20", "to": "2026-12-10"}, "to", "cannot end before it starts"),
    ("a stay over 90 days", {"to": "2027-03-15"}, "to", "at most 90 days"),
    ("lodged too early", {"from": "2027-06-01", "to": "2027-06-10"}, "from", "at most 180 days before"),
    ("no state", {"states[0]": "", "states[1]": "", "states[2]": "", "main_destination": ""}, "states", "at least one"),
    ("a state outside the scheme", {"states[1]": "CN"}, "states-1", "does not take part"),
    (
        "days in a state without the state",
        {"itinerary[3].from": "2026-12-02", "itinerary[3].to": "2026-12-03"},
        "states-3",
        "This field is required.",
    ),
    (
        "days in a state without their end",
        {"itinerary[0].from": "2026-12-02"},
        "itinerary-0-to",
        "This field is required.",
    ),
    (
        "days outside the stay",
        {"itinerary[1].from": "2026-11-25", "itinerary[1].to": "2026-12-03"},
        "itinerary-1-from",
        "within the stay",
    ),
    ("a main destination not visited", {"main_destination": "TJ"}, "main_destination", "one of the states you visit"),
    ("a name in another script", {"surname": "王"}, "surname", "“王” cannot be written in the machine-readable zone"),
    ("a name with a digit", {"given_names": "PRIYA 2"}, "given_names", "“2” cannot be written"),
    ("a name of punctuation", {"surname": "--"}, "surname", "has no letter"),
    ("no purpose", {"purpose": "holiday"}, "purpose", "not in the expected format"),
    ("no entries", {"entries": ""}, "entries", "This field is required."),
]


@pytest.mark.parametrize(
    ("changes", "field", "sentence"), [c[1:] for c in BAD_APPLICATIONS], ids=[c[0] for c in BAD_APPLICATIONS]
)
def test_every_bad_application_marks_its_field_keeps_the_input_and_writes_nothing(
    visitors: Any, services: Services, changes: dict[str, str], field: str, sentence: str
) -> None:
    traveller = visitors()
    response = traveller.post("/visa/apply", {**FORM, **changes}, 422)
    page = Page(response.text)
    assert page.by_id("form-problem")  # the box above the form, announced
    assert sentence in page.errors().get(f"f-{field}", ""), page.errors()
    if page.has(f"f-{field}") and page.by_id(f"f-{field}").tag in ("input", "select"):
        assert f"f-{field}" in page.invalid()
    assert page.value("f-passport_number") == changes.get("passport_number", FORM["passport_number"])
    assert page.value("f-given_names") == changes.get("given_names", FORM["given_names"])
    assert count(services, "KZ") == 0
    assert count(services, "AZ") == 0


def test_an_empty_application_marks_every_required_field_at_once(visitors: Any, services: Services) -> None:
    page = Page(visitors().post("/visa/apply", {}, 422).text)
    for name in ("surname", "nationality", "date_of_birth", "sex", "passport_number", "passport_expiry", "from", "to"):
        assert f"f-{name}" in page.errors(), name
    assert "f-states" in page.errors()
    assert count(services) == 0


def test_application_errors_speak_the_visitors_language(visitors: Any, services: Services) -> None:
    traveller = visitors()
    traveller.get("/visa/apply", lang="ru")  # the choice is remembered
    page = Page(traveller.post("/visa/apply", {**FORM, "from": "2026-11-01", "surname": "Šťastný"}, 422).text)
    assert page.lang() == "ru"
    assert page.errors()["f-from"] == "Поездка не может начаться раньше сегодняшнего дня."
    kazakh = visitors()
    kazakh.get("/visa/apply", lang="kk")
    page = Page(kazakh.post("/visa/apply", {**FORM, "surname": "王"}, 422).text)
    assert page.lang() == "kk"
    assert page.errors()["f-surname"].startswith("«王» машинамен оқылатын аймақта жазыла алмайды.")
    assert count(services) == 0


@pytest.mark.parametrize("csrf", [None, "", "forged"])
def test_an_application_without_this_browsers_csrf_token_is_refused(
    visitors: Any, services: Services, csrf: str | None
) -> None:
    traveller = visitors()
    traveller.csrf("/visa/apply")  # the browser has its cookie
    data = dict(FORM) if csrf is None else {**FORM, "csrf": csrf}
    response = traveller.client.post("/visa/apply", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert "The form has expired" in response.text
    assert count(services) == 0


# --- the traveller: following the application --------------------------------------------------------------------


def test_a_refusal_explains_every_ground_what_could_be_fixed_and_the_appeal(visitors: Any, services: Services) -> None:
    application_id, token = lodge(visitors())
    consul = visitors("consul-kz")
    consul.post(
        f"/consul/applications/{application_id}/decision",
        {"decision": "refuse", "grounds": ["insufficient_means", "false_document"]},
        303,
        form=f"/consul/applications/{application_id}",
    )
    page = visitors().get(f"/visa/status/{application_id}", token=token)
    assert page.decision() == "Visa refused"
    words = page.words()
    assert "Sufficient means of subsistence for the stay and the return were not shown." in words
    assert "Add bank statements, a sponsor's guarantee or prepaid accommodation and tickets." in words
    assert "A false, counterfeit or forged travel document was presented." in words
    assert "This cannot be put right in a new application." in words
    assert "32(1)(a)(iii)" in words
    assert "You may appeal until Dec 21, 2026" in words  # 30 days from the decision
    ru = visitors().get(f"/visa/status/{application_id}", token=token, lang="ru")
    assert ru.decision() == "В визе отказано"


def test_an_issued_visa_shows_the_e_visa_the_seal_and_the_stay(
    visitors: Any, services: Services, clock: FixedClock
) -> None:
    application_id, token = lodge(visitors())
    consul = visitors("consul-kz")
    consul.post(
        f"/consul/applications/{application_id}/decision", ISSUE, 303, form=f"/consul/applications/{application_id}"
    )
    traveller = visitors()
    page = traveller.get(f"/visa/status/{application_id}", token=token)
    assert page.decision() == "Visa issued"
    assert page.by_id("standing").text.startswith("Your visa KZ0000001 was issued by Kazakhstan.")
    assert "Your visa is valid from Dec 1, 2026" in page.words()  # not yet: no day counted
    seal = next(n for n in page.root.walk() if n.tag == "img")
    assert seal.attrs["src"].startswith("data:image/png;base64,")
    links = {n.attrs["data-evisa"]: n.attrs["href"] for n in page.root.walk() if "data-evisa" in n.attrs}
    assert set(links) == {"kk", "ru", "en"}
    for lang, href in links.items():
        pdf = traveller.client.get(href)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-language"] == lang
        assert pdf.content.startswith(b"%PDF-")
    traveller.get(f"/visa/status/{application_id}/evisa.pdf", 422, token=token, lang="de")

    # ten days into the stay in Kazakhstan (30 days in a row at most there): the count the border keeps
    t = Traveller(visitors().client, clock)
    t.number, t.passport = "KZ0000001", "Z1234567"
    t.on(date(2026, 12, 1))
    assert t.cross("KZ-KORDAY", "entry")["allowed"]
    t.on(date(2026, 12, 10))
    page = traveller.get(f"/visa/status/{application_id}", token=token)
    assert page.by_id("days-used").text == "10"
    assert page.by_id("days-on-visa").text == "10"
    assert page.by_id("days-remaining").text == "20"
    assert page.by_id("latest-exit").text == "Dec 30, 2026"


def test_the_e_visa_of_an_application_without_a_visa_is_not_found(visitors: Any) -> None:
    application_id, token = lodge(visitors())
    visitors().get(f"/visa/status/{application_id}/evisa.pdf", 404, token=token)


# --- the consul: the queue and the examination -------------------------------------------------------------------


def test_the_queue_shows_the_states_applications_oldest_first_with_alert_hits(
    visitors: Any, services: Services, clock: FixedClock
) -> None:
    first, _ = lodge(visitors())
    clock.advance(minutes=5)
    # on the demo alert list: "Ivanova Zhanna", born 30 Nov 1979, entered by Kazakhstan
    flagged, _ = lodge(
        visitors(), surname="Иванова", given_names="Жанна", date_of_birth="1979-11-30", passport_number="N7777777"
    )
    page = visitors("consul-kz").get("/consul/applications")
    rows = [n.attrs["data-application"] for n in page.root.walk() if "data-application" in n.attrs]
    assert rows == [first, flagged]
    badges = {n.attrs["data-badge"] for n in page.root.walk() if "data-badge" in n.attrs}
    assert badges == {"hits"}
    assert "1 alert hit" in page.words()
    assert visitors("consul-kz").get("/consul/applications", status="refused").words().count("SHARMA") == 0
    visitors("consul-kz").get("/consul/applications", 422, status="nonsense")
    assert first not in visitors("consul-uz").get("/consul/applications").words()

    examined = visitors("consul-kz").get(f"/consul/applications/{flagged}", lang="kk")
    hit = next(n for n in examined.root.walk() if "data-alert" in n.attrs)
    assert "Ivanova Zhanna" in hit.text
    assert examined.lang() == "kk"
    english = visitors("consul-kz").get(f"/consul/applications/{flagged}")
    assert "Why it matched: the name Иванова Жанна is 100% similar, with the same date of birth." in english.words()
    assert "overstayed 45 days" in english.words()
    assert "No alert matches the applicant." in visitors("consul-kz").get(f"/consul/applications/{first}").words()


def test_the_consuls_pages_need_a_consul_of_the_right_state(visitors: Any) -> None:
    application_id, _ = lodge(visitors())
    anonymous = visitors()
    for path in ("/consul/applications", f"/consul/applications/{application_id}", "/consul/consultations"):
        response = anonymous.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=/consul/")
    visitors("border-kz").get("/consul/applications", 403)
    visitors("customs-kz").get(f"/consul/applications/{application_id}", 403)
    other = visitors("consul-uz")
    page = other.get(f"/consul/applications/{application_id}", 403)
    assert "Your account may not do this." in page.words()
    other.post(f"/consul/applications/{application_id}/decision", ISSUE, 403, form="/consul/applications")
    visitors("consul-kz").get("/consul/applications/ffffffffffffffff", 404)


def test_the_consul_issues_a_visa_and_the_file_shows_it(visitors: Any, services: Services) -> None:
    application_id, _ = lodge(visitors())
    consul = visitors("consul-kz")
    page = consul.get(f"/consul/applications/{application_id}")
    assert page.value("f-valid_from") == "2026-12-01"  # what the applicant asked for
    assert page.value("f-valid_until") == "2027-02-04"  # the stay and a fortnight's margin
    assert page.value("f-duration_of_stay_days") == "51"
    response = consul.post(
        f"/consul/applications/{application_id}/decision", ISSUE, 303, form=f"/consul/applications/{application_id}"
    )
    page = consul.get(response.headers["location"])
    assert page.by_id("application-status").text == "Visa issued"
    assert "KZ0000001" in page.words()
    assert "V<KAZSHARMA<<PRIYA" in page.words()
    assert not page.has("decision-form")  # decided once and for all
    assert status_of(services, application_id) == "issued"


BAD_DECISIONS = [
    ({}, "decision", "Choose a decision."),
    ({"decision": "refuse"}, "grounds", "Tick at least one ground."),
    ({"decision": "refuse", "grounds": ["bribery"]}, "grounds", "Tick the grounds from the list."),
    ({**ISSUE, "valid_from": ""}, "valid_from", "This field is required."),
    ({**ISSUE, "valid_until": "2027-02-30"}, "valid_until", "not in the expected format"),
    ({**ISSUE, "valid_from": "2026-11-20"}, "valid_from", "cannot be valid from a day in the past"),
    ({**ISSUE, "valid_until": "2026-11-30"}, "valid_until", "cannot end before it starts"),
    ({**ISSUE, "valid_until": "2031-04-30"}, "valid_until", "beyond the passport's expiry"),
    ({**ISSUE, "duration_of_stay_days": "0"}, "duration_of_stay_days", "1 to 90 days"),
    ({**ISSUE, "duration_of_stay_days": "91"}, "duration_of_stay_days", "1 to 90 days"),
    ({**ISSUE, "duration_of_stay_days": "sixty"}, "duration_of_stay_days", "not in the expected format"),
    ({**ISSUE, "valid_until": "2026-12-10"}, "duration_of_stay_days", "cannot exceed the validity"),
    ({**ISSUE, "entries": ""}, "entries", "This field is required."),
    ({**ISSUE, "decision": "issue_ltv"}, "excluded_states", "Tick at least one state"),
    (
        {**ISSUE, "decision": "issue_ltv", "excluded_states": ["XX"]},
        "excluded_states",
        "Tick the states from the list.",
    ),
    ({**ISSUE, "decision": "issue_ltv", "excluded_states": ["KZ"]}, "excluded_states", "cannot leave itself out"),
]


@pytest.mark.parametrize(("data", "field", "sentence"), BAD_DECISIONS)
def test_every_bad_decision_marks_its_field_and_decides_nothing(
    visitors: Any, services: Services, data: dict[str, Any], field: str, sentence: str
) -> None:
    application_id, _ = lodge(visitors())
    consul = visitors("consul-kz")
    path = f"/consul/applications/{application_id}"
    page = Page(consul.post(f"{path}/decision", data, 422, form=path).text)
    assert sentence in page.errors().get(f"f-{field}", ""), page.errors()
    if data.get("decision"):
        assert page.by_id(f"f-decision-{data['decision']}").attrs.get("checked") is not None  # kept
    assert status_of(services, application_id) == "lodged"


def test_deciding_twice_is_refused_and_changes_nothing(visitors: Any, services: Services) -> None:
    application_id, _ = lodge(visitors())
    consul = visitors("consul-kz")
    path = f"/consul/applications/{application_id}"
    token = consul.csrf(path)  # a second tab, opened before the first decision
    consul.post(f"{path}/decision", {"decision": "refuse", "grounds": ["threat"]}, 303, form=path)
    response = consul.client.post(f"{path}/decision", data={"csrf": token, **ISSUE}, follow_redirects=False)
    assert response.status_code == 409
    assert "The application is already decided." in Page(response.text).words()
    assert status_of(services, application_id) == "refused"
    response = consul.client.post(
        f"{path}/decision?lang=kk", data={"csrf": token, "decision": "refuse", "grounds": ["threat"]}
    )
    assert "Өтініш бойынша шешім қабылданып қойған." in Page(response.text).words()


def test_a_decision_without_this_browsers_csrf_token_is_refused(visitors: Any, services: Services) -> None:
    application_id, _ = lodge(visitors())
    consul = visitors("consul-kz")
    consul.csrf(f"/consul/applications/{application_id}")
    for token in (None, "forged"):
        data = dict(ISSUE) if token is None else {**ISSUE, "csrf": token}
        response = consul.client.post(f"/consul/applications/{application_id}/decision", data=data)
        assert response.status_code == 403
    assert status_of(services, application_id) == "lodged"


def test_bad_decisions_are_told_in_the_consuls_language(visitors: Any, services: Services) -> None:
    application_id, _ = lodge(visitors())
    consul = visitors("consul-kz")
    path = f"/consul/applications/{application_id}"
    consul.get(path, lang="kk")
    page = Page(consul.post(f"{path}/decision", {"decision": "refuse"}, 422, form=path).text)
    assert page.lang() == "kk"
    assert page.errors()["f-grounds"] == "Кемінде бір негізді белгілеңіз."
    assert status_of(services, application_id) == "lodged"


# --- prior consultation --------------------------------------------------------------------------------------------

AFGHAN = {
    "surname": "AHMADZAI",
    "given_names": "WAHIDULLAH",
    "native_name": "",
    "nationality": "AFG",
    "date_of_birth": "1985-07-03",
    "sex": "M",
    "passport_number": "P01234567",
    "passport_expiry": "2030-06-30",
    "states[1]": "",
    "states[2]": "",
    "main_destination": "",
    "from": "2026-12-05",
    "to": "2026-12-20",
    "entries": "single",
    "purpose": "business",
}
AFGHAN_VISA = {
    "decision": "issue",
    "valid_from": "2026-12-05",
    "valid_until": "2026-12-31",
    "duration_of_stay_days": "16",
    "entries": "single",
}


def test_a_consulted_state_objects_and_the_visa_must_leave_it_out(
    visitors: Any, services: Services, clock: FixedClock
) -> None:
    # an Afghan national: UZ, TJ, TM and RU ask to be consulted
    application_id, _ = lodge(visitors(), **AFGHAN)
    path = f"/consul/applications/{application_id}"
    uz = visitors("consul-uz")
    listed = uz.get("/consul/consultations")
    assert application_id in [n.attrs["data-application"] for n in listed.root.walk() if "data-application" in n.attrs]
    page = uz.get(path)
    assert page.has("reply-form")
    assert not page.has("decision-form")  # only the competent state decides

    bad = [
        ({}, "objection", "Choose your state's answer."),
        ({"objection": "yes", "reason": "seen before"}, "grounds", "Tick at least one ground."),
        ({"objection": "yes", "grounds": ["threat"]}, "reason", "State the reason."),
    ]
    for data, field, sentence in bad:
        answer = Page(uz.post(f"{path}/consultation", data, 422, form=path).text)
        assert sentence in answer.errors().get(f"f-{field}", ""), (data, answer.errors())

    def answered() -> bool | None:
        found = services.visa_queries.application(application_id)
        assert found is not None
        return found[0].consultations["UZ"].objection

    assert answered() is None  # nothing was recorded

    visitors("consul-kg").post(f"{path}/consultation", {"objection": "no"}, 403, form="/consul/applications")
    unsent = uz.client.post(f"{path}/consultation", data={"objection": "no"})  # no CSRF token
    assert unsent.status_code == 403
    assert answered() is None
    uz.post(
        f"{path}/consultation", {"objection": "yes", "grounds": ["threat"], "reason": "seen before"}, 303, form=path
    )
    again = uz.post(f"{path}/consultation", {"objection": "no"}, 409, form="/consul/consultations")
    assert "already answered" in Page(again.text).words()

    kz = visitors("consul-kz")
    queue = kz.get("/consul/applications")
    badges = {n.attrs["data-badge"] for n in queue.root.walk() if "data-badge" in n.attrs}
    assert badges == {"objection", "consultation"}
    open_ = Page(kz.post(f"{path}/decision", AFGHAN_VISA, 409, form=path).text)
    assert "Prior consultation is still open" in open_.words()

    clock.advance(days=8)  # the others' time to object ran out
    kz, uz = visitors("consul-kz"), visitors("consul-uz")
    late = uz.get(path)
    assert not late.has("reply-form")
    uniform = Page(kz.post(f"{path}/decision", AFGHAN_VISA, 409, form=path).text)
    assert "The visa must leave out the states that objected: Uzbekistan." in uniform.errors()["f-excluded_states"]
    kz.post(f"{path}/decision", {**AFGHAN_VISA, "decision": "issue_ltv", "excluded_states": ["UZ"]}, 303, form=path)
    assert status_of(services, application_id) == "issued_ltv"


# --- revocation and notifications ------------------------------------------------------------------------------------


def test_any_states_consul_revokes_a_visa_and_the_issuing_state_is_notified(
    visitors: Any, services: Services, client: TestClient, clock: FixedClock
) -> None:
    application_id, token = lodge(visitors())
    visitors("consul-kz").post(
        f"/consul/applications/{application_id}/decision", ISSUE, 303, form=f"/consul/applications/{application_id}"
    )
    uz = visitors("consul-uz")
    assert uz.client.get("/consul/visas", params={"number": "kz0000001"}).url.path == "/consul/visas/KZ0000001"
    missing = uz.get("/consul/visas", 404, number="KZ7654321")
    assert "No visa with this number was found." in missing.errors()["f-number"]
    path = "/consul/visas/KZ0000001"
    bad = [
        ({"grounds": ["threat"], "reason": "x"}, "action", "Choose to revoke or to annul."),
        ({"action": "revoke", "reason": "x"}, "grounds", "Tick at least one ground."),
        ({"action": "revoke", "grounds": ["threat"]}, "reason", "State the reason."),
    ]
    for data, field, sentence in bad:
        page = Page(uz.post(f"{path}/revocation", data, 422, form=path).text)
        assert sentence in page.errors().get(f"f-{field}", ""), (data, page.errors())
    found = services.visa_queries.visa("KZ0000001")
    assert found is not None
    assert found.visa is not None
    assert found.visa.status.value == "valid"

    visitors("border-uz").get(path, 403)
    uz.csrf(path)
    forged = {"action": "revoke", "grounds": ["threat"], "reason": "new facts", "csrf": "forged"}
    assert uz.client.post(f"{path}/revocation", data=forged).status_code == 403
    assert services.visa_queries.notifications("KZ") == []
    uz.post(f"{path}/revocation", {"action": "revoke", "grounds": ["threat"], "reason": "new facts"}, 303, form=path)
    again = uz.post(f"{path}/revocation", {"action": "annul", "grounds": ["threat"], "reason": "x"}, 409, form=path)
    assert "already revoked or annulled" in Page(again.text).words()
    notified = visitors("consul-kz").get("/consul/notifications")
    row = next(n for n in notified.root.walk() if n.attrs.get("data-visa") == "KZ0000001")
    assert "Revoked" in row.text
    assert "Uzbekistan" in row.text
    assert visitors("consul-uz").get("/consul/notifications").words().count("KZ0000001") == 0
    clock.advance(days=10)  # the journey starts: the next border check anywhere refuses the visa
    refused = check(visitors("border-kz"), {"passport_number": "Z1234567", "visa_number": "KZ0000001"})
    assert refused.decision() == "Entry refused"
    assert "The visa was revoked by Uzbekistan on Nov 21, 2026." in refused.by_id("answer").text
    status = visitors().get(f"/visa/status/{application_id}", token=token)
    assert status.decision() == "Revoked"
    assert "One or more states consider you a threat" in status.words()


# --- the border guard --------------------------------------------------------------------------------------------


@pytest.fixture
def visa(visitors: Any, client: TestClient, clock: FixedClock) -> Traveller:
    """An Indian traveller's uniform visa KZ0000001, valid from Dec 1, 2026, with the clock on 1 Dec."""
    t = Traveller(client, clock)
    t.issued(application(states=["KZ", "KG", "UZ"]))
    t.on(date(2026, 12, 1))
    return t


def check(guard: Visitor, data: dict[str, Any], expect: int = 200, **kw: Any) -> Page:
    """Send the check form as a guard would: with the key of a freshly opened form."""
    form = guard.client.get("/border")
    key = CHECK_KEY.search(form.text)
    assert key is not None
    body = {"office": "KZ-KORDAY", "direction": "entry", "check_key": key.group(1), **data}
    return Page(guard.post("/border", body, expect, **kw).text)


def test_the_guard_chooses_a_post_of_its_own_state_and_it_is_remembered(visitors: Any, visa: Traveller) -> None:
    guard = visitors("border-kz")
    page = guard.get("/border")
    posts = [o.attrs["value"] for o in page.by_id("f-office").walk() if o.tag == "option" and o.attrs["value"]]
    assert {"KZ-KORDAY", "KZ-ALA", "KZ-NQZ", "KZ-AKTAU-PORT"} <= set(posts)
    assert all(p.startswith("KZ-") for p in posts)
    assert "KZ-ALA-ZHETYSU" not in posts  # an inland customs post: no one crosses there
    check(guard, {"office": "KZ-NQZ", "passport_number": "Z1234567", "visa_number": visa.number})
    chosen = guard.get("/border").by_id("f-office")
    assert [o.attrs["value"] for o in chosen.walk() if "selected" in o.attrs] == ["KZ-NQZ"]


def test_a_check_by_visa_number_allows_the_entry_and_records_it(
    visitors: Any, services: Services, visa: Traveller
) -> None:
    page = check(visitors("border-kz"), {"passport_number": "z1234567", "visa_number": visa.number.lower()})
    assert page.decision() == "Entry allowed"
    assert page.by_id("days-remaining").text == "30"  # Kazakhstan's own limit: 30 days in a row
    assert page.by_id("latest-exit").text == "Dec 30, 2026"
    assert page.by_id("recorded").text == "The entry is recorded."
    assert "SHARMA" in page.by_id("answer").text
    assert "India" in page.by_id("answer").text
    assert crossings(services) == [("KZ", "entry")]


def test_a_check_by_a_photo_of_the_seal_or_its_scanned_text_allows_the_entry(
    visitors: Any, services: Services, client: TestClient, visa: Traveller
) -> None:
    png = client.get(f"/api/v1/visas/{visa.number}/seal", params={"format": "png", "passport_number": "Z1234567"})
    assert png.headers["content-type"] == "image/png"
    guard = visitors("border-kz")
    page = check(guard, {"passport_number": "Z1234567"}, files={"photo": ("seal.png", png.content, "image/png")})
    assert page.decision() == "Entry allowed"
    page = check(guard, {"passport_number": "Z1234567", "direction": "exit", "seal": visa.seal()})
    assert page.decision() == "Exit recorded"
    assert crossings(services) == [("KZ", "entry"), ("KZ", "exit")]
    # what camera.js sends when the browser cannot decode a frame itself
    decoded = guard.client.post(
        "/border/decode",
        data={"csrf": guard.csrf("/border")},
        files={"frame": ("frame.png", png.content, "image/png")},
    )
    assert decoded.json() == {"ok": True, "seal": visa.seal()}
    blank = guard.client.post(
        "/border/decode?lang=ru",
        data={"csrf": guard.csrf("/border")},
        files={"frame": ("frame.png", blank_png(), "image/png")},
    )
    assert blank.status_code == 422
    assert blank.json()["reason"] == "no_qr_code"
    assert blank.json()["message"].startswith("На фото не найден QR-код")
    assert guard.client.post("/border/decode", data={"csrf": "forged"}).status_code == 403


def blank_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (200, 200), "white").save(out, format="PNG")
    return out.getvalue()


def test_refusals_say_each_reason_in_words_and_record_the_refused_entry(
    visitors: Any, services: Services, visa: Traveller
) -> None:
    guard = visitors("border-kz")
    wrong = check(guard, {"passport_number": "Z7654321", "visa_number": visa.number})
    assert wrong.decision() == "Entry refused"
    assert "The visa was issued for another passport." in wrong.by_id("answer").text
    assert wrong.by_id("recorded").text == "The refused entry is recorded."

    forged_seal = visa.seal()
    forged_seal = forged_seal[:-1] + ("0" if forged_seal[-1] != "0" else "1")
    forged = check(guard, {"passport_number": "Z1234567", "seal": forged_seal})
    assert forged.decision() == "Entry refused"
    assert "altered or forged" in forged.by_id("answer").text

    unknown = check(guard, {"passport_number": "Z1234567", "visa_number": "KZ9999999"})
    assert unknown.decision() == "Entry refused"
    assert "No such visa is recorded in the scheme." in unknown.by_id("answer").text
    assert unknown.by_id("recorded").text == "Nothing was recorded: there is no such visa."
    assert crossings(services) == []  # only allowed crossings count for the stay

    kazakh = visitors("border-kz")
    kazakh.get("/border", lang="kk")
    page = check(kazakh, {"passport_number": "Z7654321", "visa_number": visa.number})
    assert page.lang() == "kk"
    assert "Виза басқа паспортқа берілген." in page.by_id("answer").text


def test_an_entry_before_the_validity_is_refused_with_the_first_valid_day(
    visitors: Any, client: TestClient, clock: FixedClock
) -> None:
    t = Traveller(client, clock)
    t.issued(application(), valid_from="2026-12-05")
    t.on(date(2026, 12, 2))
    page = check(visitors("border-kz"), {"passport_number": "Z1234567", "visa_number": t.number})
    assert page.decision() == "Entry refused"
    assert "The visa is not valid yet: it is valid from Dec 5, 2026." in page.by_id("answer").text


def test_flags_are_warnings_beside_the_answer(visitors: Any, services: Services, visa: Traveller) -> None:
    guard = visitors("border-kz")
    check(guard, {"passport_number": "Z1234567", "visa_number": visa.number})
    again = check(guard, {"passport_number": "Z1234567", "visa_number": visa.number, "office": "KZ-ALA"})
    assert again.decision() == "Entry allowed"
    assert "No exit was recorded after the previous entry" in " ".join(n.text for n in again.of_class("warnings"))
    exit_elsewhere = check(
        visitors("border-uz"),
        {"passport_number": "Z1234567", "visa_number": visa.number, "office": "UZ-DUSTLIK", "direction": "exit"},
    )
    assert "No entry into this state was recorded" in exit_elsewhere.by_id("answer").text


BAD_CHECKS = [
    ({"office": "", "visa_number": "KZ0000001"}, "office", "Choose your border post."),
    (
        {"office": "KZ-NOWHERE", "visa_number": "KZ0000001"},
        "office",
        "Choose a border post, port or airport of your state.",
    ),
    ({"direction": "", "visa_number": "KZ0000001"}, "direction", "Choose entry or exit."),
    ({"passport_number": "", "visa_number": "KZ0000001"}, "passport_number", "Type the number of the passport"),
    ({"passport_number": "Z123-4567", "visa_number": "KZ0000001"}, "passport_number", "1 to 9 Latin letters"),
    ({}, "visa_number", "Scan the seal, upload a photo of it, or type the visa number."),
]


@pytest.mark.parametrize(("data", "field", "sentence"), BAD_CHECKS)
def test_every_bad_check_marks_its_field_and_records_nothing(
    visitors: Any, services: Services, visa: Traveller, data: dict[str, Any], field: str, sentence: str
) -> None:
    page = check(visitors("border-kz"), {"passport_number": "Z1234567", **data}, 422)
    assert page.has("form-problem")
    assert sentence in page.errors().get(f"f-{field}", ""), page.errors()
    assert not page.has("answer")
    assert crossings(services) == []


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        (b"", "Scan the seal"),  # an empty file input sends no photo at all
        (b"not an image at all", "This file is not a photo or an image."),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "The image is damaged"),
        (None, "No QR code was found in the photo"),
    ],
)
def test_an_unreadable_photo_is_told_and_records_nothing(
    visitors: Any, services: Services, visa: Traveller, content: bytes | None, sentence: str
) -> None:
    photo = blank_png() if content is None else content
    page = check(
        visitors("border-kz"),
        {"passport_number": "Z1234567"},
        422,
        files={"photo": ("seal.png" if photo else "", photo, "image/png")},
    )
    assert sentence in " ".join(page.errors().values()), page.errors()
    assert crossings(services) == []


def test_the_border_pages_need_a_guard_at_a_post_of_its_own_state(
    visitors: Any, services: Services, visa: Traveller
) -> None:
    anonymous = visitors().client.get("/border", follow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/signin?next=/border")
    visitors("consul-kz").get("/border", 403)
    foreign = check(visitors("border-uz"), {"passport_number": "Z1234567", "visa_number": visa.number}, 403)
    assert "You check travellers only at the posts of your own state." in foreign.words()
    guard = visitors("border-kz")
    guard.csrf("/border")
    response = guard.client.post(
        "/border",
        data={"office": "KZ-KORDAY", "direction": "entry", "passport_number": "Z1234567", "visa_number": visa.number},
    )
    assert response.status_code == 403
    assert crossings(services) == []


def test_a_check_sent_twice_records_one_crossing(visitors: Any, services: Services, visa: Traveller) -> None:
    guard = visitors("border-kz")
    key = CHECK_KEY.search(guard.client.get("/border").text)
    assert key is not None
    body = {
        "office": "KZ-KORDAY",
        "direction": "entry",
        "passport_number": "Z1234567",
        "visa_number": visa.number,
        "check_key": key.group(1),
    }
    guard.post("/border", body, 200)
    resent = Page(guard.post("/border", body, 422).text)  # the browser's "send the form again?"
    assert "already sent" in resent.words()
    assert resent.value("f-passport_number") == ""
    assert crossings(services) == [("KZ", "entry")]


# --- the words the pages show ------------------------------------------------------------------------------------


def test_the_pages_ground_texts_are_the_visa_codes() -> None:
    assert {code: words.text for code, words in GROUNDS.items()} == {
        code: ground.text for code, ground in REFUSAL_GROUNDS.items()
    }
    assert {code: words.remedy for code, words in GROUNDS.items()} == {
        code: ground.remedy for code, ground in REFUSAL_GROUNDS.items()
    }


def test_every_reason_a_border_check_can_give_has_words() -> None:
    from silkway.documents import visa_seal
    from silkway.signing import trustlist, vds
    from silkway.visas import border as visa_border
    from silkway.web.pages.border import FLAGS, REASONS

    sources = [
        inspect.getsource(visa_border),
        inspect.getsource(visa_seal.check_visa_seal),
        inspect.getsource(vds.verify_visa_seal),
        inspect.getsource(trustlist.TrustList.problem_with_signer),
        inspect.getsource(trustlist.KeyEntry.problem_signing_at),
    ]
    codes = {code for source in sources for code in re.findall(r'(?:Finding|Problem)\(\s*"([a-z_]+)"', source)}
    assert len(codes) > 20
    assert codes - {"overstay"} <= set(REASONS) | set(FLAGS)
