"""The analyst's dashboard and the administrator's pages without a browser, on SQLite and PostgreSQL.

The dashboard is checked against a small history made through the handlers, whose medians and 90th
percentiles are worked out by hand below; the administrator's forms against every bad input, each told
in the visitor's language, and against half-written data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from silkway.i18n import translator
from silkway.services import Services
from silkway.shared.actors import Actor, Role
from silkway.shared.clock import FixedClock
from silkway.shared.money import Money
from silkway.shared.mrn import Mrn
from silkway.transit import handlers
from silkway.transit.commands import (
    ControlReport,
    DischargeTransit,
    PresentVehicle,
    RecordArrival,
    RecordControl,
    RecordPassage,
    ReleaseForTransit,
    SubmitDeclaration,
)
from silkway.transit.model import (
    ControlKind,
    ControlOutcome,
    Decision,
    Declaration,
    GoodsItem,
    GuaranteeCommitment,
    Itinerary,
    Vehicle,
)
from silkway.visas import handlers as visa_handlers
from silkway.visas.commands import CheckAtBorder, DecideApplication, LodgeApplication
from silkway.visas.model import Applicant, Direction, Entries, Purpose, Sex, TravelPlan

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CARRIER = Actor(username="carrier-kz", role=Role.CARRIER, country="KZ")

TO_TASHKENT = ("KZ-ALA-ZHETYSU", "KZ-ZHIBEKZHOLY", "UZ-GISHTKUPRIK", "UZ-TAS-CUSTOMS")
TO_BISHKEK = ("KZ-ALA-ZHETYSU", "KZ-KORDAY", "KG-AKJOL", "KG-BISHKEK-CENTRAL")
GRAPES = GoodsItem(
    hs_code="080610",
    description="Fresh table grapes in crates",
    packages=250,
    gross_mass_kg=Decimal("2000"),
    value=Money.of("3000", "USD"),
)
CIGARETTES = GoodsItem(
    hs_code="240220",
    description="Cigarettes, 10,000 per case",
    packages=125,
    gross_mass_kg=Decimal("1500"),
    value=Money.of("45000", "USD"),
)
CEMENT = GoodsItem(
    hs_code="252329",
    description="Portland cement in 50 kg bags",
    packages=400,
    gross_mass_kg=Decimal("20000"),
    value=Money.of("1400", "USD"),
)


# --- a small history, made through the handlers ---------------------------------------------------


def customs(office: str) -> Actor:
    country = office[:2]
    return Actor(username=f"customs-{country.lower()}", role=Role.CUSTOMS, country=country)


@dataclass
class History:
    """What the history holds, as worked out by hand."""

    clock: FixedClock
    uz_transits: list[Mrn] = field(default_factory=list)
    kg_transit: Mrn | None = None


def drive_transit(
    services: Services, clock: FixedClock, offices: tuple[str, ...], goods: GoodsItem, minutes: dict[str, int]
) -> Mrn:
    """One transit from lodging to discharge; at each border post the vehicle is presented and passes
    exactly `minutes[post]` later (an inspection asked for is answered by a physical control meanwhile)."""

    def run(handler, command):  # type: ignore[no-untyped-def]
        return handler(command, uow=services.uow(), clock=clock, places=services.places)

    seals = ("KZ7000001",)
    mrn: Mrn = run(
        handlers.submit_declaration,
        SubmitDeclaration(
            actor=CARRIER,
            declaration=Declaration(
                holder=CARRIER.username,
                vehicle=Vehicle(plate="777 DSH 02", country="KZ"),
                containers=(),
                itinerary=Itinerary(offices=offices),
                goods=(goods,),
                guarantee=GuaranteeCommitment(reference="GRN-KZ-0001", amount=Money.of("1000", "USD")),
            ),
        ),
    )
    clock.advance(minutes=45)
    documentary = ControlReport(kind=ControlKind.DOCUMENTARY, outcome=ControlOutcome.SATISFACTORY)
    run(
        handlers.release_for_transit,
        ReleaseForTransit(actor=customs(offices[0]), mrn=mrn, office=offices[0], seals=seals, control=documentary),
    )
    for post in offices[1:-1]:
        clock.advance(hours=3)
        decision = run(handlers.present_vehicle, PresentVehicle(actor=customs(post), mrn=mrn, office=post, seals=seals))
        if decision.decision is Decision.INSPECT:
            clock.advance(minutes=5)
            physical = ControlReport(kind=ControlKind.PHYSICAL, outcome=ControlOutcome.SATISFACTORY)
            run(handlers.record_control, RecordControl(actor=customs(post), mrn=mrn, office=post, control=physical))
            clock.advance(minutes=minutes[post] - 5)
        else:
            clock.advance(minutes=minutes[post])
        run(handlers.record_passage, RecordPassage(actor=customs(post), mrn=mrn, office=post))
    destination = offices[-1]
    clock.advance(hours=4)
    run(handlers.record_arrival, RecordArrival(actor=customs(destination), mrn=mrn, office=destination, seals=seals))
    clock.advance(minutes=30)
    run(handlers.discharge_transit, DischargeTransit(actor=customs(destination), mrn=mrn, office=destination))
    return mrn


def traveller(passport: str) -> Applicant:
    return Applicant(
        surname="SHARMA",
        given_names="PRIYA",
        native_name=None,
        nationality="IND",
        date_of_birth=date(1990, 4, 12),
        sex=Sex.FEMALE,
        passport_number=passport,
        passport_expiry=date(2031, 3, 31),
    )


def issue_visa(services: Services, clock: FixedClock, state: str, passport: str, arrive: date, leave: date) -> str:
    lodged = visa_handlers.lodge_application(
        LodgeApplication(
            applicant=traveller(passport),
            plan=TravelPlan(
                states=(state,),
                arrive=arrive,
                leave=leave,
                main_destination=None,
                purpose=Purpose.TOURISM,
                entries=Entries.SINGLE,
            ),
        ),
        uow=services.uow(),
        clock=clock,
        scheme=services.scheme,
        countries=services.countries,
    )
    clock.advance(hours=1)
    number = visa_handlers.decide_application(
        DecideApplication(
            actor=Actor(username=f"consul-{state.lower()}", role=Role.CONSULAR, country=state),
            application_id=lodged.id,
            decision="issue",
            valid_from=arrive,
            valid_until=leave,
            duration_of_stay_days=(leave - arrive).days + 1,
            entries=Entries.SINGLE,
        ),
        uow=services.uow(),
        clock=clock,
        scheme=services.scheme,
    )
    assert number is not None
    return number


def cross(services: Services, clock: FixedClock, office: str, direction: Direction, passport: str, number: str) -> None:
    state = office[:2]
    visa_handlers.check_at_border(
        CheckAtBorder(
            actor=Actor(username=f"border-{state.lower()}", role=Role.BORDER_GUARD, country=state),
            office=office,
            direction=direction,
            passport_number=passport,
            visa_number=number,
        ),
        uow=services.uow(),
        clock=clock,
        scheme=services.scheme,
        countries=services.countries,
        seals=services.seal_reader,
    )


def on(clock: FixedClock, day: date, hour: int) -> None:
    now = clock.now()
    target = now.replace(year=day.year, month=day.month, day=day.day, hour=hour, minute=0, second=0)
    assert target >= now
    clock.advance(seconds=(target - now).total_seconds())


def make_history(services: Services, clock: FixedClock) -> History:
    """From 21 November 2026: a visa of Uzbekistan used and overstayed by three days, a visa of Kazakhstan
    not yet used, four transits from Almaty to Tashkent and one from Almaty to Bishkek.

    Crossing times (minutes from presentation to passage):
    - UZ-GISHTKUPRIK: 40, 100 (cigarettes: inspected for Uzbekistan's tobacco rule), 50, 70
      → median (50 + 70) / 2 = 60, 90th percentile: rank ceil(0.9 × 4) = 4 of 40 ≤ 50 ≤ 70 ≤ 100 → 100
    - KZ-ZHIBEKZHOLY: 20, 30, 10, 15 → median (15 + 20) / 2 = 17.5, 90th percentile 30
    - KZ-KORDAY: 50; KG-AKJOL: 70 (the transit to Bishkek, which never touches Uzbekistan)
    """
    clock.advance(hours=1)
    uz_visa = issue_visa(services, clock, "UZ", "Z1234567", date(2026, 11, 22), date(2026, 11, 24))
    issue_visa(services, clock, "KZ", "Z7654321", date(2026, 11, 25), date(2026, 11, 28))
    on(clock, date(2026, 11, 22), 6)
    cross(services, clock, "UZ-TAS", Direction.ENTRY, "Z1234567", uz_visa)
    on(clock, date(2026, 11, 27), 6)
    cross(services, clock, "UZ-TAS", Direction.EXIT, "Z1234567", uz_visa)  # three days after the visa ran out

    on(clock, date(2026, 11, 28), 8)
    history = History(clock=clock)
    for goods, kz, uz in ((GRAPES, 20, 40), (CIGARETTES, 30, 100), (GRAPES, 10, 50), (GRAPES, 15, 70)):
        post_times = {"KZ-ZHIBEKZHOLY": kz, "UZ-GISHTKUPRIK": uz}
        history.uz_transits.append(drive_transit(services, clock, TO_TASHKENT, goods, post_times))
    history.kg_transit = drive_transit(services, clock, TO_BISHKEK, CEMENT, {"KZ-KORDAY": 50, "KG-AKJOL": 70})
    clock.advance(hours=1)
    return history


# --- reading pages --------------------------------------------------------------------------------


class Tables(HTMLParser):
    """Every table of a page by its caption's id: its rows as lists of cell texts (header cells included)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._caption_id: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = []
        elif tag == "caption" and self._table is not None:
            self._caption_id = dict(attrs).get("id")
            if self._caption_id:
                self.tables[self._caption_id] = self._table
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag in ("li", "br") and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._table is not None and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows_of(html: str, caption: str) -> list[list[str]]:
    tables = Tables(html).tables
    assert caption in tables, f"no table {caption} in the page: {sorted(tables)}"
    return tables[caption][1:]  # without the header row


def row_starting(rows: list[list[str]], text: str) -> list[str]:
    found = [r for r in rows if r and text in r[0]]
    assert len(found) == 1, (text, rows)
    return found[0]


def csrf_of(client: TestClient, path: str) -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None, path
    return found.group(1)


def sign_in(client: TestClient, username: str) -> None:
    response = client.post(
        "/signin",
        data={"csrf": csrf_of(client, "/signin"), "username": username, "password": "demo"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def words(lang: str, english: str, **values: object) -> str:
    """`english` as the catalogue of `lang` says it; asserts it really is translated."""
    said = translator(lang).gettext(english)
    assert said != english, f"{english!r} has no {lang} translation"
    return said % values if values else said


def html_text(value: str) -> str:
    """`value` as it appears in the page's HTML (Jinja2 escapes quotes and ampersands)."""
    return value.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")


# --- the dashboard --------------------------------------------------------------------------------


def test_crossing_times_match_the_hand_worked_medians_and_percentiles(services: Services, clock: FixedClock) -> None:
    make_history(services, clock)
    now = clock.now()

    uz = services.dashboard.transit_figures(state="UZ", since=now - timedelta(days=30), until=now)
    kz = services.dashboard.transit_figures(state="KZ", since=now - timedelta(days=30), until=now)

    assert [(p.office, p.times.passages, p.times.median, p.times.p90) for p in uz.posts] == [
        ("UZ-GISHTKUPRIK", 4, 60.0, 100.0)
    ]
    assert {p.office: (p.times.median, p.times.p90) for p in kz.posts} == {
        "KZ-ZHIBEKZHOLY": (17.5, 30.0),
        "KZ-KORDAY": (50.0, 50.0),
    }
    assert uz.overall.median == 60.0
    # the map's "now" is the last 7 days: every crossing here is within them
    assert uz.recent["KZUZ-ZHIBEKZHOLY"].times.median == 60.0
    assert uz.recent["KZUZ-ZHIBEKZHOLY"].times.passages == 4


def test_the_state_view_shows_its_own_figures_and_nothing_of_transits_elsewhere(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    make_history(services, clock)
    sign_in(client, "analyst-uz")

    page = client.get("/analyst?lang=en")

    assert page.status_code == 200
    html = page.text
    posts = rows_of(html, "posts-caption")
    assert [r[0] for r in posts] == ["Gishtkuprik (UZ-GISHTKUPRIK)"]
    assert posts[0][2:] == ["4", "60 min", "100 min"]
    inspections = {r[0]: r[1:] for r in rows_of(html, "inspections-caption")}
    # at the border post: one cigarette lorry inspected, three green; at Tashkent all four green on the
    # physical control made at the border
    assert inspections["Gishtkuprik"][:4] == ["4", "1", "1", "3"]
    assert inspections[services.reference.offices["UZ-TAS-CUSTOMS"].name][:4] == ["4", "0", "0", "4"]
    corridors = rows_of(html, "corridors-caption")
    assert corridors == [["Zhibek Zholy – Gishtkuprik", "Kazakhstan", "Uzbekistan", "4", "7.5"]]
    sections = {r[0]: r[2:] for r in rows_of(html, "sections-caption")}
    assert sections == {"II": ["3", "3", "6"], "IV": ["1", "1", "1.5"]}
    assert "Korday" not in html
    assert "Bishkek" not in html
    assert "Mineral products" not in html  # the cement went to Bishkek
    figures = dict(
        zip(re.findall(r'class="card-label">([^<]+)<', html), re.findall(r'class="figure">([^<]+)<', html), strict=True)
    )
    assert figures["Transits lodged"] == "4"
    assert figures["Inspections avoided"] == "7"
    assert figures["Inspections performed"] == "1"
    assert figures["Visas issued"] == "1"  # Uzbekistan's own; Kazakhstan's is not its to see
    assert figures["Overstays on record"] == "1"
    nationalities = rows_of(html, "visa-nationalities-caption")
    assert nationalities == [["India", "1"]]
    assert "visa-states-caption" not in Tables(html).tables  # visas by issuing state are the region's view
    overstays = rows_of(html, "overstays-caption")
    assert overstays == [["Uzbekistan", "India", "1", "1", "0", "3"]]


def test_the_region_view_sums_every_state(client: TestClient, services: Services, clock: FixedClock) -> None:
    make_history(services, clock)
    sign_in(client, "analyst-uz")

    html = client.get("/analyst?view=region&lang=en").text

    posts = {r[0]: r[2:] for r in rows_of(html, "posts-caption")}
    assert posts == {
        "Gishtkuprik (UZ-GISHTKUPRIK)": ["4", "60 min", "100 min"],
        "Zhibek Zholy (KZ-ZHIBEKZHOLY)": ["4", "18 min", "30 min"],  # 17.5, rounded to the even minute
        "Korday (KZ-KORDAY)": ["1", "50 min", "50 min"],
        "Ak-Jol (KG-AKJOL)": ["1", "70 min", "70 min"],
    }
    inspections = {r[0]: r[1:] for r in rows_of(html, "inspections-caption")}
    assert set(inspections) == {"Kazakhstan", "Kyrgyzstan", "Uzbekistan"}
    assert inspections["Uzbekistan"][:4] == ["8", "1", "1", "7"]
    corridors = {(r[0], r[1], r[2]): r[3:] for r in rows_of(html, "corridors-caption")}
    assert corridors == {
        ("Zhibek Zholy – Gishtkuprik", "Kazakhstan", "Uzbekistan"): ["4", "7.5"],
        ("Korday – Ak-Jol", "Kazakhstan", "Kyrgyzstan"): ["1", "20"],
    }
    sections = {r[0]: r[2:] for r in rows_of(html, "sections-caption")}
    assert sections["V"] == ["1", "1", "20"]
    by_state = {r[0]: r[1] for r in rows_of(html, "visa-states-caption")}
    assert by_state == {"Uzbekistan": "1", "Kazakhstan": "1"}


def test_the_map_colours_each_crossing_point_by_its_crossing_time(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    make_history(services, clock)
    sign_in(client, "analyst-kz")

    html = client.get("/analyst?view=region&lang=en").text

    by_code = {code: pace for pace, code in re.findall(r'<g class="post pace-(\w+)" data-code="([A-Z-]+)"', html)}
    assert by_code["KZUZ-ZHIBEKZHOLY"] == "slow"  # median of 10..100 over both sides: 35 minutes
    assert by_code["KZKG-KORDAY"] == "slow"  # 50 and 70: 60
    assert by_code["UZTJ-OYBEK"] == "quiet"
    assert "Smooth: median under 30 minutes" in html
    assert "No crossing in the last 7 days" in html
    assert html.count('<svg class="chart"') >= 5
    assert 'role="img"' in html


def test_the_dashboard_works_on_an_empty_node_in_every_language(client: TestClient) -> None:
    sign_in(client, "analyst-kz")

    for lang in ("kk", "ru", "en"):
        for view in ("state", "region"):
            page = client.get(f"/analyst?view={view}&lang={lang}")
            assert page.status_code == 200
            assert f'<html lang="{lang}">' in page.text
            assert '<svg class="map"' in page.text
    assert words("kk", "Nothing was recorded in this period.") in client.get("/analyst?lang=kk").text


def test_numbers_and_dates_are_written_as_the_language_writes_them(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    make_history(services, clock)
    sign_in(client, "analyst-uz")

    ru = client.get("/analyst?view=region&lang=ru").text
    en = client.get("/analyst?view=region&lang=en").text

    assert "7,5" in ru  # tonnes across Zhibek Zholy
    assert "7.5" in en
    since = (clock.now() - timedelta(days=30)).date()
    assert since == date(2026, 11, 1)
    assert "1 нояб. 2026" in ru
    assert "Nov 1, 2026" in en
    assert html_text(words("ru", "Crossing time per border post")) in ru


@pytest.mark.parametrize("period", ["0", "abc", "-7", "3650"])
def test_an_unknown_period_falls_back_to_thirty_days(client: TestClient, period: str) -> None:
    sign_in(client, "analyst-kz")

    page = client.get(f"/analyst?days={period}&view=nonsense")

    assert page.status_code == 200
    assert '<option value="30" selected>' in page.text
    assert 'id="tab-state" href="/analyst?view=state&amp;days=30" aria-current="page"' in page.text


# --- rights ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/analyst", "/admin/accounts", "/admin/offices", "/admin/risk-rules"])
def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/signin?next={path}"


@pytest.mark.parametrize("username", ["customs-uz", "carrier-kz", "consul-kz", "border-uz"])
def test_other_roles_may_not_open_the_dashboard(client: TestClient, username: str) -> None:
    sign_in(client, username)

    assert client.get("/analyst").status_code == 403


@pytest.mark.parametrize("username", ["analyst-uz", "customs-uz", "carrier-kz"])
def test_only_administrators_open_the_administration(client: TestClient, services: Services, username: str) -> None:
    sign_in(client, username)
    token = csrf_of(client, "/signin")

    for path in ("/admin/accounts", "/admin/offices", "/admin/risk-rules"):
        assert client.get(path).status_code == 403
    created = client.post(
        "/admin/accounts",
        data={"csrf": token, "username": "intruder", "display_name": "X", "role": "admin", "password": "secret1"},
    )
    rule = client.post(
        "/admin/risk-rules",
        data={"csrf": token, "id": "intruder", "description": "X", "hs_prefix": "24", "required_control": "scan"},
    )

    assert created.status_code == 403
    assert rule.status_code == 403
    assert all(r.id != "intruder" for cc in ("UZ", "KZ") for r in services.queries.risk_rules(cc))
    assert all(a.username != "intruder" for cc in ("UZ", "KZ") for a in services.queries.accounts(cc))


def test_administrators_see_their_states_dashboard(client: TestClient) -> None:
    sign_in(client, "admin-uz")

    page = client.get("/analyst?lang=en")

    assert page.status_code == 200
    assert "My state: Uzbekistan" in page.text


# --- offices --------------------------------------------------------------------------------------


def test_the_offices_page_lists_the_states_offices_and_their_pairs_across_the_border(
    client: TestClient, services: Services
) -> None:
    sign_in(client, "admin-uz")

    html = client.get("/admin/offices?lang=en").text

    rows = {r[0]: r[1:] for r in rows_of(html, "offices-caption")}
    assert set(rows) == {o.code for o in services.reference.offices_of("UZ")}
    gishtkuprik = rows["UZ-GISHTKUPRIK"]
    assert gishtkuprik[1] == "Border post"
    assert "Zhibek Zholy – Gishtkuprik: Zhibek Zholy (KZ-ZHIBEKZHOLY), Kazakhstan" in gishtkuprik[4]
    assert rows["UZ-TAS-CUSTOMS"][1] == "Inland office"
    assert "UZ-TAS" in {r[0] for r in rows_of(html, "airports-caption")}
    assert "reference data" in html
    assert "<form" not in html.split("<main", 1)[1]  # read-only


# --- accounts -------------------------------------------------------------------------------------

GOOD_ACCOUNT = {
    "username": "customs-uz-2",
    "display_name": "Dilshod Karimov, Gishtkuprik post",
    "role": "customs",
    "password": "s3cret-pass",
    "password_again": "s3cret-pass",
}


def post_account(client: TestClient, lang: str = "en", **changes: str):  # type: ignore[no-untyped-def]
    data = {**GOOD_ACCOUNT, **changes, "csrf": csrf_of(client, "/admin/accounts")}
    return client.post(f"/admin/accounts?lang={lang}", data=data, follow_redirects=False)


def test_an_administrator_creates_an_account_of_its_state(client: TestClient, services: Services) -> None:
    sign_in(client, "admin-uz")

    response = post_account(client)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/accounts?created=customs-uz-2"
    page = client.get("/admin/accounts?created=customs-uz-2&lang=en").text
    assert "The account customs-uz-2 was created." in page
    listed = {r[0]: r[1:] for r in rows_of(page, "accounts-caption")}
    assert listed["customs-uz-2"][:3] == ["Dilshod Karimov, Gishtkuprik post", "Customs officer", "active"]
    account = next(a for a in services.queries.accounts("UZ") if a.username == "customs-uz-2")
    assert account.role is Role.CUSTOMS
    other = TestClient(client.app)
    login = other.post(
        "/signin",
        data={"csrf": csrf_of(other, "/signin"), "username": "customs-uz-2", "password": "s3cret-pass"},
        follow_redirects=False,
    )
    assert login.status_code == 303
    assert login.headers["location"] == "/customs"


BAD_ACCOUNTS = [
    pytest.param({"username": ""}, {"username": "Enter a user name."}, id="no user name"),
    pytest.param(
        {"username": "customs-uz"}, {"username": "This user name is taken: choose another."}, id="user name taken"
    ),
    pytest.param(
        {"username": "system"},
        {"username": "This user name is reserved for the node itself: choose another."},
        id="reserved",
    ),
    pytest.param(
        {"username": "a b!"},
        {
            "username": "A user name is 3 to 64 lower-case Latin letters, digits, dots, dashes or underscores, "
            "starting with a letter or a digit."
        },
        id="malformed user name",
    ),
    pytest.param(
        {"display_name": " "}, {"display_name": "Enter the name to show for this account."}, id="no display name"
    ),
    pytest.param(
        {"display_name": "x" * 201},
        {"display_name": "The name to show is at most 200 characters."},
        id="display name too long",
    ),
    pytest.param({"role": ""}, {"role": "Choose the account's role."}, id="no role"),
    pytest.param({"role": "superuser"}, {"role": "Choose the account's role."}, id="unknown role"),
    pytest.param({"password": "", "password_again": ""}, {"password": "Enter a password."}, id="no password"),
    pytest.param(
        {"password": "abc", "password_again": "abc"},
        {"password": "A password has 4 to 256 characters."},
        id="weak password",
    ),
    pytest.param(
        {"password_again": "s3cret-pasS"},
        {"password_again": "The two passwords differ: type the same password twice."},
        id="passwords differ",
    ),
    pytest.param(
        {"username": "", "display_name": "", "role": "", "password": "", "password_again": ""},
        {
            "username": "Enter a user name.",
            "display_name": "Enter the name to show for this account.",
            "role": "Choose the account's role.",
            "password": "Enter a password.",
        },
        id="empty form",
    ),
]


@pytest.mark.parametrize(("changes", "said"), BAD_ACCOUNTS)
def test_each_bad_account_is_refused_with_a_message_and_nothing_is_created(
    client: TestClient, services: Services, changes: dict[str, str], said: dict[str, str]
) -> None:
    sign_in(client, "admin-uz")
    before = sorted(a.username for a in services.queries.accounts("UZ"))

    response = post_account(client, **changes)

    assert response.status_code == 422
    html = response.text
    for name, sentence in said.items():
        assert f'id="f-{name}-error">{html_text(sentence)}</p>' in html, name
        assert f'id="f-{name}"' in html
    assert "Nothing was saved. Correct the marked fields and send the form again." in html
    assert sorted(a.username for a in services.queries.accounts("UZ")) == before
    assert 's3cret-pass"' not in html  # a password is never sent back


@pytest.mark.parametrize(
    ("lang", "changes", "english"),
    [
        ("ru", {"username": "customs-uz"}, "This user name is taken: choose another."),
        ("kk", {"password": "abc", "password_again": "abc"}, "A password has %(min)s to %(max)s characters."),
        ("ru", {"role": "superuser"}, "Choose the account's role."),
    ],
)
def test_account_messages_are_in_the_visitors_language(
    client: TestClient, lang: str, changes: dict[str, str], english: str
) -> None:
    sign_in(client, "admin-uz")

    response = post_account(client, lang=lang, **changes)

    html = response.text
    sentence = words(lang, english, min=4, max=256) if "%(" in english else words(lang, english)
    assert html_text(sentence) in html
    assert html_text(words(lang, "Nothing was saved. Correct the marked fields and send the form again.")) in html
    assert f'<html lang="{lang}">' in html


def test_an_account_form_without_the_csrf_token_creates_nothing(client: TestClient, services: Services) -> None:
    sign_in(client, "admin-uz")

    response = client.post("/admin/accounts", data={**GOOD_ACCOUNT, "csrf": "forged"})

    assert response.status_code == 403
    assert all(a.username != GOOD_ACCOUNT["username"] for a in services.queries.accounts("UZ"))


# --- risk rules -----------------------------------------------------------------------------------

GOOD_RULE = {
    "id": "cotton-scan",
    "description": "Raw cotton (HS 5201) from Turkmenistan worth over 2 USD per kg: a scan",
    "hs_prefix": "5201",
    "departure_country": "TM",
    "min_value_amount": "2.00",
    "min_value_currency": "USD",
    "sampling_percent": "",
    "seed": "",
    "required_control": "scan",
    "active": "on",
}


def post_rule(client: TestClient, lang: str = "en", **changes: str):  # type: ignore[no-untyped-def]
    data = {**GOOD_RULE, **changes, "csrf": csrf_of(client, "/admin/risk-rules")}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/admin/risk-rules?lang={lang}", data=data, follow_redirects=False)


def test_an_administrator_creates_replaces_and_deletes_a_risk_rule(client: TestClient, services: Services) -> None:
    sign_in(client, "admin-uz")

    created = post_rule(client)
    assert created.status_code == 303
    rule = next(r for r in services.queries.risk_rules("UZ") if r.id == "cotton-scan")
    assert (rule.hs_prefix, rule.departure_country, rule.required_control) == ("5201", "TM", ControlKind.SCAN)
    assert rule.min_value_per_kg == Money.of("2.00", "USD")
    listed = client.get("/admin/risk-rules?saved=cotton-scan&lang=en").text
    assert "The risk rule cotton-scan was saved." in listed
    row = row_starting(rows_of(listed, "rules-caption"), "cotton-scan")
    assert row[2:5] == [
        "HS code starts with 5201 departs from Turkmenistan worth at least 2 USD per kg",
        "Scan",
        "in force",
    ]

    edit = client.get("/admin/risk-rules?edit=cotton-scan").text
    assert 'value="5201"' in edit
    assert '<option value="TM" selected>' in edit

    replaced = post_rule(
        client, description="Every tenth cotton consignment", sampling_percent="10", seed="uz-2026", active=""
    )
    assert replaced.status_code == 303
    rules = [r for r in services.queries.risk_rules("UZ") if r.id == "cotton-scan"]
    assert len(rules) == 1
    assert rules[0].description == "Every tenth cotton consignment"
    assert rules[0].sampling_rate == Decimal("0.1")
    assert rules[0].active is False

    token = csrf_of(client, "/admin/risk-rules")
    deleted = client.post("/admin/risk-rules/delete", data={"csrf": token, "id": "cotton-scan"}, follow_redirects=False)
    assert deleted.status_code == 303
    assert all(r.id != "cotton-scan" for r in services.queries.risk_rules("UZ"))
    assert "The risk rule cotton-scan was deleted." in client.get(deleted.headers["location"] + "&lang=en").text
    assert any(r.id == "tobacco" for r in services.queries.risk_rules("UZ"))  # the other rule stays


def test_a_spot_check_rule_asks_for_no_control_kind(client: TestClient, services: Services) -> None:
    sign_in(client, "admin-uz")

    response = post_rule(
        client, id="spot", hs_prefix="", departure_country="", min_value_amount="", min_value_currency="",
        sampling_percent="2.5", seed="x", required_control="spot",
    )  # fmt: skip

    assert response.status_code == 303
    rule = next(r for r in services.queries.risk_rules("UZ") if r.id == "spot")
    assert rule.required_control is None
    assert rule.sampling_rate == Decimal("0.025")


BAD_RULES = [
    pytest.param({"id": ""}, {"id": "Enter the rule's identifier."}, id="no id"),
    pytest.param(
        {"id": "-cotton"},
        {
            "id": "An identifier is 1 to 40 lower-case Latin letters, digits and dashes, starting with a letter or "
            "a digit."
        },
        id="malformed id",
    ),
    pytest.param({"id": "x" * 41}, {"id": "An identifier is"}, id="id too long"),
    pytest.param({"description": ""}, {"description": "Describe the rule: what is inspected, and why."}, id="no text"),
    pytest.param(
        {"description": "x" * 1001}, {"description": "The description is at most 1000 characters."}, id="long text"
    ),
    pytest.param(
        {"hs_prefix": "520"},
        {"hs_prefix": "An HS code here is a chapter (2 digits), a heading (4) or a subheading (6)."},
        id="hs code of 3 digits",
    ),
    pytest.param(
        {"hs_prefix": "77"},
        {"hs_prefix": "There is no such chapter, heading or subheading in HS 2022."},
        id="hs chapter that does not exist",
    ),
    pytest.param(
        {"departure_country": "ZZ"}, {"departure_country": "Choose a member state, or any state."}, id="no such state"
    ),
    pytest.param(
        {"min_value_amount": ""},
        {"min_value_amount": "Enter the value per kilogram, or leave the currency empty too."},
        id="currency without amount",
    ),
    pytest.param(
        {"min_value_amount": "-2"},
        {
            "min_value_amount": "The value per kilogram is a positive amount with at most two decimals, "
            "such as 150 or 12.50."
        },
        id="negative amount",
    ),
    pytest.param({"min_value_amount": "1.234"}, {"min_value_amount": "The value per kilogram is"}, id="three decimals"),
    pytest.param({"min_value_amount": "lots"}, {"min_value_amount": "The value per kilogram is"}, id="not a number"),
    pytest.param(
        {"min_value_currency": ""},
        {"min_value_currency": "Enter the currency of the value, such as USD."},
        id="amount without currency",
    ),
    pytest.param(
        {"min_value_currency": "ABC"},
        {"min_value_currency": "This is not an ISO 4217 currency code, such as USD or KZT."},
        id="unknown currency",
    ),
    pytest.param(
        {"sampling_percent": "0"},
        {"sampling_percent": "The sampling rate is a percentage above 0 and at most 100, with at most four decimals."},
        id="sampling zero",
    ),
    pytest.param({"sampling_percent": "150"}, {"sampling_percent": "The sampling rate is"}, id="sampling over 100"),
    pytest.param({"sampling_percent": "ten"}, {"sampling_percent": "The sampling rate is"}, id="sampling not a number"),
    pytest.param({"seed": "s" * 101}, {"seed": "The seed is at most 100 characters."}, id="long seed"),
    pytest.param(
        {"required_control": "x-ray"}, {"required_control": "Choose the control the rule asks for."}, id="bad control"
    ),
    pytest.param(
        {"hs_prefix": "", "departure_country": "", "min_value_amount": "", "min_value_currency": ""},
        {
            "hs_prefix": "Set at least one criterion: an HS code, a country of departure, a value per kilogram "
            "or a sampling rate."
        },
        id="no criterion",
    ),
]


@pytest.mark.parametrize(("changes", "said"), BAD_RULES)
def test_each_bad_risk_rule_is_refused_with_a_message_and_nothing_is_saved(
    client: TestClient, services: Services, changes: dict[str, str], said: dict[str, str]
) -> None:
    sign_in(client, "admin-uz")
    before = list(services.queries.risk_rules("UZ"))

    response = post_rule(client, **changes)

    assert response.status_code == 422
    html = response.text
    for name, sentence in said.items():
        assert f'id="f-{name}-error">{html_text(sentence)}' in html, (name, html[html.find("problem") :][:800])
        assert 'aria-invalid="true"' in html
    assert list(services.queries.risk_rules("UZ")) == before


def test_rule_messages_are_in_the_visitors_language(client: TestClient) -> None:
    sign_in(client, "admin-uz")

    ru = post_rule(client, lang="ru", hs_prefix="77").text
    kk = post_rule(client, lang="kk", min_value_currency="ABC").text

    assert html_text(words("ru", "There is no such chapter, heading or subheading in HS 2022.")) in ru
    assert html_text(words("kk", "This is not an ISO 4217 currency code, such as USD or KZT.")) in kk


def test_deleting_a_rule_the_state_does_not_have_says_so(client: TestClient, services: Services) -> None:
    sign_in(client, "admin-kz")  # Uzbekistan's tobacco rule is not Kazakhstan's to delete
    token = csrf_of(client, "/admin/risk-rules")

    response = client.post("/admin/risk-rules/delete?lang=en", data={"csrf": token, "id": "tobacco"})

    assert response.status_code == 404
    assert "Your state has no risk rule tobacco: it may have been deleted already." in response.text
    assert any(r.id == "tobacco" for r in services.queries.risk_rules("UZ"))
