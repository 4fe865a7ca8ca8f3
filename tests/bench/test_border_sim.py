"""The border-time model: reproducible, honest about what inspect-once changes, true to queueing theory,
calibrated to CPMM within the report's tolerance, and strict about its parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from bench.border_sim import (
    Controls,
    Duration,
    Network,
    Post,
    Regime,
    Route,
    Run,
    build_network,
    calibrate,
    side_hours,
    simulate,
)
from bench.border_time import TOLERANCE, Assumptions
from bench.carec import LANES, MAX_UTILISATION, POSTS, PostFigure
from silkway.places import ReferenceData

BASE = Assumptions().controls()
NOTHING = Duration(mean_h=0.0, cv=0.0)
TASHKENT_DUSHANBE = Route(
    name="Almaty → Tashkent → Dushanbe",
    origin="KZ-ALA-ZHETYSU",
    crossings=("KZUZ-ZHIBEKZHOLY", "UZTJ-OYBEK"),
    trucks_per_day=6.0,
)


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return ReferenceData.load()


def post(crossing: str = "KZUZ-ZHIBEKZHOLY", exit_country: str = "KZ", **changes: float) -> Post:
    values = {"lanes": 2, "trucks_per_hour": 1.0, "other_delay_h": 0.0} | changes
    return Post(
        crossing=crossing,
        exit_country=exit_country,
        lanes=int(values["lanes"]),
        trucks_per_hour=values["trucks_per_hour"],
        other_delay_h=values["other_delay_h"],
    )


def two_borders(reference: ReferenceData, controls: Controls = BASE) -> Network:
    posts = [post(), post("UZTJ-OYBEK", "UZ", trucks_per_hour=0.8)]
    return build_network(reference, posts=posts, routes=[TASHKENT_DUSHANBE], controls=controls)


def both(network: Network, days: float = 60, seed: int = 7) -> tuple[Run, Run]:
    today, once = (simulate(network, regime, days=days, warmup_days=5, seed=seed) for regime in Regime)
    return today, once


def same_times(a: Run, b: Run) -> bool:
    posts = all(np.array_equal(a.post_hours[k], b.post_hours[k]) for k in a.post_hours)
    return posts and all(np.array_equal(a.route_hours[k], b.route_hours[k]) for k in a.route_hours)


def test_a_run_is_reproduced_by_its_seed(reference: ReferenceData) -> None:
    network = two_borders(reference)
    first = simulate(network, Regime.TODAY, days=40, warmup_days=5, seed=11)
    again = simulate(network, Regime.TODAY, days=40, warmup_days=5, seed=11)
    other = simulate(network, Regime.TODAY, days=40, warmup_days=5, seed=12)

    assert same_times(first, again)
    assert (first.post_inspections, first.trucks) == (again.post_inspections, again.trucks)
    assert not same_times(first, other)


def test_inspect_once_never_inspects_more_than_today(reference: ReferenceData) -> None:
    today, once = both(two_borders(reference))

    assert today.border_inspections > 0
    for key in today.post_inspections:
        assert once.post_inspections[key] <= today.post_inspections[key]
    for name in today.route_inspections:
        assert np.all(once.route_inspections[name] <= today.route_inspections[name])
    assert once.departure_inspections == today.departure_inspections > 0


def test_without_papers_or_inspections_the_regimes_take_the_same_time(reference: ReferenceData) -> None:
    controls = replace(BASE, papers=NOTHING, verify=NOTHING, inspection_share=0.0, recheck_share=0.0)

    today, once = both(two_borders(reference, controls))

    assert same_times(today, once)
    assert today.border_inspections == once.border_inspections == 0


def test_inspect_once_changes_nothing_where_goods_enter_the_region(reference: ReferenceData) -> None:
    routes = [
        Route(
            name="Khorgos → Almaty → Tashkent",
            origin="CN-KHORGOS",
            crossings=("KZCN-NURZHOLY", "KZUZ-ZHIBEKZHOLY"),
            trucks_per_day=6.0,
        )
    ]
    posts = [post("KZCN-NURZHOLY", "CN"), post()]
    network = build_network(reference, posts=posts, routes=routes, controls=BASE)

    today, once = both(network)

    assert np.array_equal(today.post_hours["KZCN-NURZHOLY:CN"], once.post_hours["KZCN-NURZHOLY:CN"])
    assert once.post_hours["KZUZ-ZHIBEKZHOLY:KZ"].mean() < today.post_hours["KZUZ-ZHIBEKZHOLY:KZ"].mean()


def test_a_single_lane_queues_as_queueing_theory_says(reference: ReferenceData) -> None:
    # One lane on the entry side only (every load gets an SPS check of mean 1 h, CV 1), Poisson arrivals at
    # 0.5 an hour: M/G/1 with the first two moments of M/M/1, so by Pollaczek-Khinchine the mean wait is
    # rho / (mu - lambda) = 1 h and the mean time at the post 1 / (mu - lambda) = 2 h.
    arrival, service = 0.5, 1.0
    controls = replace(
        BASE,
        border_guard=NOTHING,
        papers=NOTHING,
        verify=NOTHING,
        sps=Duration(mean_h=service, cv=1.0),
        sps_share=1.0,
        inspection_share=0.0,
        recheck_share=0.0,
    )
    network = build_network(reference, posts=[post(lanes=1, trucks_per_hour=arrival)], routes=[], controls=controls)
    expected = 1 / (1 / service - arrival)

    run = simulate(network, Regime.TODAY, days=1700, warmup_days=20, seed=3)

    assert run.trucks > 19_000
    assert run.post_hours["KZUZ-ZHIBEKZHOLY:KZ"].mean() == pytest.approx(expected, rel=0.07)
    assert side_hours(arrival, 1, service, 1.0, 1.0)[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    "figure", [f for f in POSTS if f.crossing == "KZUZ-KONYSBAYEV"], ids=lambda f: f"{f.crossing}:{f.exit_country}"
)
def test_calibration_lands_within_the_reports_tolerance(reference: ReferenceData, figure: PostFigure) -> None:
    found = calibrate(figure.hours, controls=BASE, lanes=LANES, max_utilisation=MAX_UTILISATION)
    calibrated = post(
        figure.crossing,
        figure.exit_country,
        lanes=LANES,
        trucks_per_hour=found.trucks_per_hour,
        other_delay_h=found.other_delay_h,
    )
    network = build_network(reference, posts=[calibrated], routes=[], controls=BASE)

    run = simulate(network, Regime.TODAY, days=400, warmup_days=30, seed=5)

    assert found.utilisation <= MAX_UTILISATION + 1e-9
    assert run.post_hours[calibrated.key].mean() == pytest.approx(figure.hours, rel=TOLERANCE)


def test_calibration_puts_what_the_lanes_cannot_carry_down_to_non_control_delay() -> None:
    slow = calibrate(70.0, controls=BASE, lanes=2, max_utilisation=0.9)
    quick = calibrate(5.0, controls=BASE, lanes=2, max_utilisation=0.9)
    half = calibrate(20.0, controls=BASE, lanes=2, max_utilisation=0.9, non_control_share=0.5)

    assert slow.utilisation == pytest.approx(0.9)
    assert slow.other_delay_h + slow.control_h == pytest.approx(70.0)
    assert quick.other_delay_h == pytest.approx(0.0, abs=1e-9)
    assert quick.control_h == pytest.approx(5.0)
    assert half.other_delay_h == pytest.approx(10.0)
    assert half.control_h == pytest.approx(10.0)


def build(reference: ReferenceData, posts: Sequence[Post], routes: Sequence[Route] = ()) -> Network:
    return build_network(reference, posts=posts, routes=routes, controls=BASE)


@pytest.mark.parametrize(
    ("posts", "routes", "message"),
    [
        ([post(trucks_per_hour=-1.0)], [], "trucks_per_hour"),
        ([post(other_delay_h=-2.0)], [], "other_delay_h"),
        ([post(lanes=0)], [], "at least one lane"),
        ([post("KZUZ-NOWHERE")], [], "not a crossing point"),
        ([post("KZAZ-AKTAU-ALAT-SEA")], [], "not a road one"),
        ([post(exit_country="TJ")], [], "sides of KZUZ-ZHIBEKZHOLY are in"),
        ([post(), post()], [], "listed twice"),
        (
            [post()],
            [replace(TASHKENT_DUSHANBE, crossings=("KZUZ-ZHIBEKZHOLY",), trucks_per_day=-3.0)],
            "trucks_per_day",
        ),
        ([post()], [replace(TASHKENT_DUSHANBE, origin="KZ-NOWHERE")], "not an office"),
        ([post()], [replace(TASHKENT_DUSHANBE, crossings=("KGCN-TORUGART",))], "not a crossing point"),
        ([post()], [replace(TASHKENT_DUSHANBE, crossings=("UZTJ-OYBEK",))], "cannot cross UZTJ-OYBEK from KZ"),
        ([post()], [TASHKENT_DUSHANBE], "no post UZTJ-OYBEK:UZ"),
        ([post()], [replace(TASHKENT_DUSHANBE, origin="KZ-KORDAY")], "starts at an office of departure"),
        ([post(trucks_per_hour=0.1)], [replace(TASHKENT_DUSHANBE, crossings=("KZUZ-ZHIBEKZHOLY",))], "more than"),
    ],
)
def test_bad_networks_are_refused_with_a_reason(
    reference: ReferenceData, posts: list[Post], routes: list[Route], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build(reference, posts, routes)


def test_bad_controls_and_runs_are_refused_with_a_reason(reference: ReferenceData) -> None:
    with pytest.raises(ValueError, match="inspection_share is a share"):
        replace(BASE, inspection_share=1.5)
    with pytest.raises(ValueError, match="papers: mean and CV"):
        replace(BASE, papers=Duration(mean_h=-0.5, cv=0.8))
    with pytest.raises(ValueError, match="warmup_days < days"):
        simulate(two_borders(reference), Regime.TODAY, days=5, warmup_days=5, seed=1)
    with pytest.raises(ValueError, match="shorter than"):
        calibrate(0.5, controls=BASE, lanes=2, max_utilisation=0.9)
