"""What the border-time simulation is calibrated to: CAREC CPMM figures, with where each one comes from.

The Corridor Performance Measurement and Monitoring (CPMM) mechanism of the CAREC Program (ADB) records
real road shipments. Its first indicator, TFI1 "time taken to clear a border-crossing point", is the mean
time in hours from the entry to the exit of *both* countries' control points at a crossing, waiting
included (definition: CPMM 2023 report, introduction). Reports give it per country and direction
(outbound, inbound) and, for the busiest crossings, per border-crossing point (BCP).

Every figure below was read on the page named in its `Source` (the CPMM report website,
cpmm.carecprogram.org, which publishes each annual report as web pages). Years next to figures are the
years the shipments were recorded; the reports' publication dates were not checked and are not given.
Where no per-post figure was found, a post takes the average of its two countries' figures for that
direction (`Basis.COUNTRY`). The model's assumptions, which are not CPMM figures, are at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from statistics import fmean


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A page a figure was read on."""

    title: str
    url: str


CPMM_2020_ROAD = Source(
    title="CAREC CPMM Annual Report 2020, ch. 4 Road Transport",
    url="https://cpmm.carecprogram.org/2020-report/road-transport",
)
CPMM_2020_PRC = Source(
    title="CAREC CPMM Annual Report 2020, People's Republic of China",
    url="https://cpmm.carecprogram.org/2020-report/peoples-republic-of-china",
)
CPMM_2020_KG = Source(
    title="CAREC CPMM Annual Report 2020, Kyrgyz Republic",
    url="https://cpmm.carecprogram.org/2020-report/kyrgyz-republic",
)
CPMM_2022_ROAD = Source(
    title="CAREC CPMM Annual Report 2022, Road Transport, Table 2.1",
    url="https://cpmm.carecprogram.org/2022-report/road-transport",
)
CPMM_2022_PRC = Source(
    title="CAREC CPMM Annual Report 2022, People's Republic of China, key findings",
    url="https://cpmm.carecprogram.org/2022-report/peoples-republic-of-china",
)
CPMM_2022_KZ = Source(
    title="CAREC CPMM Annual Report 2022, Kazakhstan, Table 3.7",
    url="https://cpmm.carecprogram.org/2022-report/kazakhstan",
)
CPMM_2022_KG = Source(
    title="CAREC CPMM Annual Report 2022, Kyrgyz Republic, Table 3.9",
    url="https://cpmm.carecprogram.org/2022-report/kyrgyz-republic",
)
CPMM_2022_TJ = Source(
    title="CAREC CPMM Annual Report 2022, Tajikistan, Tables 3.15-3.16",
    url="https://cpmm.carecprogram.org/?p=142",
)
CPMM_2022_TM = Source(
    title="CAREC CPMM Annual Report 2022, Turkmenistan, Table 3.17",
    url="https://cpmm.carecprogram.org/2022-report/turkmenistan",
)
CPMM_2022_UZ = Source(
    title="CAREC CPMM Annual Report 2022, Uzbekistan, Tables 3.19-3.20",
    url="https://cpmm.carecprogram.org/2022-report/uzbekistan",
)
CPMM_2023_INTRO = Source(
    title="CAREC CPMM Annual Report 2023, Introduction (definition of TFI1)",
    url="https://cpmm.carecprogram.org/2023-report",
)
CPMM_2023_BCP = Source(
    title="CAREC CPMM Annual Report 2023, BCP Monitor",
    url="https://cpmm.carecprogram.org/?p=440",
)
CPMM_2023_SAMPLES = Source(
    title="CAREC CPMM Annual Report 2023, Corridor Performance (data samples)",
    url="https://cpmm.carecprogram.org/2023-report/corridor-performance",
)
CPMM_ACTIVITIES = Source(
    title="CAREC CPMM, Border Crossing Activities (what is timed at a border)",
    url="https://cpmm.carecprogram.org/about/border-crossing-activities/",
)
RED_CORRIDOR_BROKER = Source(
    title="ALAICS (customs broker, Almaty), Why do cargoes end up in the red corridor?",
    url="https://alaics.kz/tpost/73pjth8ro1-why-do-cargoes-end-up-in-the-red-corrido",
)
YALLAMA_CASE = Source(
    title="Development Asia (ADB), Facilitating Cross-Border Trade in Yallama",
    url="https://development.asia/insight/facilitating-cross-border-trade-yallama",
)


# --- the region as a whole ----------------------------------------------------------------------

REGION_ROAD_HOURS: dict[int, float] = {2019: 12.2, 2020: 15.1, 2021: 13.6, 2022: 9.9}
"""TFI1 for road, all CAREC corridors (hours). 2019-2020: CPMM_2020_ROAD; 2021-2022: CPMM_2022_ROAD.

Their mean, 12.7 h, is the "10-15 hours on average" of the mission statement."""

WORST_ROAD_POSTS: tuple[tuple[str, int, float, Source], ...] = (
    ("Chaman (Pakistan-Afghanistan), outbound", 2020, 70.7, CPMM_2020_ROAD),
    ("Kuryk (Kazakhstan, Caspian ferry port), outbound", 2020, 69.7, CPMM_2020_ROAD),
    ("Torkham (Pakistan-Afghanistan), outbound", 2020, 50.0, CPMM_2020_ROAD),
    ("Torugart (Kyrgyz Republic-PRC), outbound", 2022, 50.1, CPMM_2022_KG),
    ("Alashankou (PRC-Kazakhstan), road", 2022, 81.3, CPMM_2022_PRC),
    ("Tsiteli Khidi (Georgia-Azerbaijan), outbound", 2023, 54.9, CPMM_2023_BCP),
    ("Khorgos (PRC-Kazakhstan)", 2023, 51.4, CPMM_2023_BCP),
)
"""The slowest road posts CPMM names (hours): the "worst posts 50-70 hours" of the mission statement."""


# --- countries, by direction (road, hours) ------------------------------------------------------

COUNTRY_OUTBOUND: dict[str, dict[int, float]] = {
    "KZ": {2020: 8.0, 2021: 5.9, 2022: 4.0},  # CPMM_2022_KZ
    "KG": {2020: 1.8, 2021: 4.7, 2022: 2.1},  # CPMM_2022_KG
    "UZ": {2020: 7.6, 2021: 6.6, 2022: 3.5},  # CPMM_2022_UZ
    "TJ": {2020: 4.1, 2021: 3.3, 2022: 3.0},  # CPMM_2022_TJ
    "TM": {2020: 8.9, 2021: 3.6, 2022: 34.6},  # CPMM_2022_TM
}
COUNTRY_INBOUND: dict[str, dict[int, float]] = {
    "KZ": {2020: 8.9, 2021: 9.5, 2022: 4.6},
    "KG": {2020: 2.4, 2021: 2.8, 2022: 3.2},
    "UZ": {2020: 14.0, 2021: 9.1, 2022: 5.5},
    "TJ": {2020: 5.0, 2021: 5.3, 2022: 4.7},
    "TM": {2020: 6.9, 2021: 7.1, 2022: 5.0},
}
COUNTRY_SOURCES: tuple[Source, ...] = (CPMM_2022_KZ, CPMM_2022_KG, CPMM_2022_UZ, CPMM_2022_TJ, CPMM_2022_TM)


def country_estimate(exit_country: str, entry_country: str) -> float:
    """The hours to cross from one country into the other when CPMM names no figure for the post itself:
    the mean of the exit country's outbound and the entry country's inbound road averages, 2020-2022."""
    return fmean([fmean(COUNTRY_OUTBOUND[exit_country].values()), fmean(COUNTRY_INBOUND[entry_country].values())])


# --- the posts the simulation's routes cross --------------------------------------------------------


class Basis(StrEnum):
    """Whether a post's target is CPMM's figure for that post or an average of its two countries."""

    POST = "post"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True, kw_only=True)
class PostFigure:
    """The calibration target of one crossing point in one direction.

    `crossing` is a code of silkway's crossings.csv and `exit_country` the side trucks leave from; `hours` is
    the mean time to clear both sides, in the sense of TFI1; `derivation` says how it was computed and
    from which CPMM figures."""

    crossing: str
    exit_country: str
    hours: float
    basis: Basis
    derivation: str
    sources: tuple[Source, ...]


def _post(crossing: str, exit_country: str, figures: list[float], derivation: str, *sources: Source) -> PostFigure:
    return PostFigure(
        crossing=crossing,
        exit_country=exit_country,
        hours=round(fmean(figures), 1),
        basis=Basis.POST,
        derivation=derivation,
        sources=sources,
    )


def _country(crossing: str, exit_country: str, entry_country: str) -> PostFigure:
    return PostFigure(
        crossing=crossing,
        exit_country=exit_country,
        hours=round(country_estimate(exit_country, entry_country), 1),
        basis=Basis.COUNTRY,
        derivation=(
            f"no per-post figure found: mean of {exit_country} outbound and {entry_country} inbound road "
            "averages, 2020-2022"
        ),
        sources=COUNTRY_SOURCES,
    )


POSTS: tuple[PostFigure, ...] = (
    _post(
        "KZCN-NURZHOLY",
        "CN",
        [16.4, 77.5, 23.5],
        "Horgos, road: 16.4 h outbound (2020), 77.5 h (2021), 23.5 h (2022); 51.4 h in 2023 (CPMM_2023_BCP) "
        "is not in the mean",
        CPMM_2020_PRC,
        CPMM_2022_PRC,
    ),
    _post(
        "KZCN-DOSTYK",
        "CN",
        [61.7, 81.3],
        "Alashankou, road: 61.7 h (2021), 81.3 h (2022); PRC inbound road times are under 2.5 h, so these are "
        "trucks leaving the PRC",
        CPMM_2022_PRC,
    ),
    _post(
        "KZUZ-KONYSBAYEV",
        "KZ",
        [30.0],
        "Yallama, inbound to Uzbekistan: 30.0 h (2020, with COVID-19 sanitary controls; the only per-post "
        "figure found)",
        CPMM_2020_ROAD,
    ),
    _country("KZUZ-KONYSBAYEV", "UZ", "KZ"),
    _country("KZUZ-ZHIBEKZHOLY", "KZ", "UZ"),
    _country("KZKG-KORDAY", "KZ", "KG"),
    _post(
        "KZKG-SYPATAI-CHALDYBAR",
        "KG",
        [6.8],
        "Chaldovar, outbound from the Kyrgyz Republic: 6.8 h (2020)",
        CPMM_2020_KG,
    ),
    _country("KGUZ-DOSTUK", "KG", "UZ"),
    _post(
        "UZTJ-OYBEK",
        "UZ",
        [2.5, 4.7],
        "Fotehobod, inbound to Tajikistan: 2.5 h (2020), 4.7 h (2021); no 2022 figure",
        CPMM_2022_TJ,
    ),
    _post(
        "UZTJ-SARIOSIYO",
        "TJ",
        [13.8, 10.1, 3.8],
        "Dusti, outbound from Tajikistan: 13.8 h (2020), 10.1 h (2021), 3.8 h (2022); Uzbekistan recorded "
        "25.7 h inbound at Saryasia in 2020 (CPMM_2020_ROAD), not in the mean",
        CPMM_2022_TJ,
    ),
    _post(
        "UZTM-ALAT-FARAP",
        "TM",
        [6.8, 3.5, 1.7],
        "Alat, inbound to Uzbekistan: 6.8 h (2020), 3.5 h (2021), 1.7 h (2022)",
        CPMM_2022_UZ,
    ),
    _post(
        "AZGE-REDBRIDGE",
        "GE",
        [54.9],
        "Tsiteli Khidi, outbound from Georgia: 54.9 h (2023; CPMM blames the Azerbaijani side's throughput and "
        "waits for road permits). The only figure found, and outside 2019-2022",
        CPMM_2023_BCP,
    ),
)
"""One target per crossing and direction that the routes use, all road crossings of silkway's reference data.

Not modelled although CPMM measures them: Torugart, Irkeshtam, Karamyk and Panji Poyon are not in the
reference data; Kuryk (69.7 h) is a ferry port, not a road gate."""


# --- what is not a CPMM figure: the model's assumptions ------------------------------------------------

SPS_SHARE = 0.294
"""Share of loads that also face phytosanitary or veterinary control on entry: the share of vegetables in
CPMM's 2023 samples (29.4%, CPMM_2023_SAMPLES), standing for all agri-food loads."""

CLEARANCE_AT_BEST_MINUTES = (5, 10)
"""Georgia's one-stop shop at Tsiteli Khidi: drivers spend 5-10 min in customs clearance (CPMM_2023_BCP).
The best case in the region; the model assumes 30 min for today's papers check (below)."""

YALLAMA_INSPECTION_HOURS_Q1_2020 = 11.4
"""Mean time spent on goods inspection at Yallama in the first quarter of 2020, waiting included
(YALLAMA_CASE). Not used as a parameter: it shows that inspection dominated the time there."""

# Times are in hours; CV is the coefficient of variation of a lognormal duration.
BORDER_GUARD_H, BORDER_GUARD_CV = 10 / 60, 0.5
"""Border guard and immigration, each side: the driver's passport, the vehicle's papers. Assumed."""
PAPERS_H, PAPERS_CV = 0.5, 0.8
"""Customs papers today, each side: transit declaration or TIR carnet, CMR, invoice, seals. Assumed."""
VERIFY_H, VERIFY_CV = 1 / 60, 0.3
"""Inspect-once, each later side: scan the signed control result and check the seals. Assumed; the Ed25519
check itself takes milliseconds, the minute is the officer's."""
SPS_H, SPS_CV = 0.5, 0.8
"""Phytosanitary or veterinary control on entry, for SPS_SHARE of loads. Assumed."""
INSPECTION_H, INSPECTION_CV = 2.5, 0.8
"""A physical inspection: unload, inspect and reload, or scan and open in part. Assumed."""
INSPECTION_SHARE = 0.20
"""Share of loads each side inspects today, and the share inspected at departure in both regimes. Assumed;
a customs broker in Almaty puts Kazakhstan's random selection alone at about 10% (RED_CORRIDOR_BROKER, an
estimate, not an official figure); risk profiles add to it."""
SENSITIVITY_SHARES = (0.05, 0.10, 0.20, 0.40)
"""The values of INSPECTION_SHARE the report also runs."""
RECHECK_SHARE = 0.02
"""Inspect-once: share re-inspected at a later border (broken seal, intelligence). Assumed."""
LANES = 2
"""Control lanes per side and direction; a lane is a team that keeps the truck through all its controls.
CPMM gives times, not volumes: the model reproduces the times with this many lanes, not the real traffic."""
MAX_UTILISATION = 0.9
"""The busiest a side's lanes may be in calibration. Above it a simulated year does not settle (queueing
relaxation grows as 1/(1-rho)^2) and a few minutes' error in a service time would move the queue by hours;
the rest of a post's CPMM time is then put down to non-control delay, which inspect-once does not remove."""
OTHER_DELAY_CV = 1.0
"""Spread of the non-control delay (transloading, road permits, e-queue backlogs, sanitary campaigns)."""
