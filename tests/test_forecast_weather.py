"""Weather that can bend (forecasting/weather.py): known answers from simulated histories whose
weather response we set, and the basis fixed at fit time."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from forecasting.design import build_design
from forecasting.features import calendar_features
from forecasting.history import History, parse_calendar, parse_history
from forecasting.model import MnlDemandModel
from forecasting.weather import WeatherBasis, basis_from, knots_from
from forecasting.world import WorldSpec, simulate_world, venue_toml, write_demo
from optimizer.simulation.world_truth import load_world
from pricing.calendar import entry_slots
from pricing.venue import Venue, parse_venue_toml

START = dt.date(2025, 3, 4)
VENUE: Venue = parse_venue_toml(venue_toml(4), source="venue.toml")
Response = Callable[[float], float]


def hump(t: float) -> float:
    """Demand peaks at 22 °C and falls on both sides: colder days and hot ones."""
    return -0.004 * (t - 22.0) ** 2


def saturating_rain(mm: float) -> float:
    return 0.15 * math.log1p(mm)


def simulated_history(
    temperature: Response,
    rain: Response,
    *,
    days: int = 280,
    seed: int = 1,
    columns: tuple[str, ...] = ("temp_c", "precip_mm"),
    seasonal_slope: float = 0.0,
) -> History:
    """Four slots a day at one price, demand well under capacity; log A_d = log 400 +
    temperature(t) + rain(mm) (+ seasonal_slope * (t - 15) * annual_cos_1) with a small gamma
    day shock. Temperatures are drawn uniformly from 0 to 32 °C whatever the season, so that
    the weather is not confounded with the season."""
    rng = np.random.default_rng(seed)
    lines = [",".join(("date", "slot", "capacity", "price", "sold", *columns))]
    for offset in range(days):
        date = START + dt.timedelta(offset)
        t = round(float(rng.uniform(0.0, 32.0)), 1)
        mm = round(float(rng.gamma(0.8, 8.0)), 1) if rng.random() < 0.5 else 0.0
        slots = entry_slots(VENUE, date)
        if not slots:
            continue
        season = calendar_features(VENUE, date, START)["annual_cos_1"]
        log_market = math.log(400.0) + temperature(t) + rain(mm)
        log_market += seasonal_slope * (t - 15.0) * season
        market = math.exp(log_market) * rng.gamma(200.0, 1 / 200.0)
        weather = {"temp_c": f"{t:g}", "precip_mm": f"{mm:g}"}
        for slot in slots:
            # Equal slot shares; at base price half the market buys (the model's outside share).
            sold = int(rng.poisson(market * 0.5 / len(slots)))
            lines.append(",".join((str(date), slot, "120", "20", str(sold))))
            lines[-1] += "".join(f",{weather[c]}" for c in columns)
    return parse_history("\n".join(lines) + "\n", VENUE)


@cache
def hump_fit() -> MnlDemandModel:
    return MnlDemandModel().fit(simulated_history(hump, saturating_rain))


def relative(truth: Response, values: list[float], reference: float) -> np.ndarray:
    return np.array([truth(v) - truth(reference) for v in values])


def test_a_hump_shaped_temperature_response_is_recovered() -> None:
    """Within 0.1 on the log scale of the truth, relative to 22 °C, where the hump's value is
    -0.78 at 8 °C, -0.20 at 15 °C and -0.26 at 30 °C: the hinges at the quartiles (about 8,
    16, 24 °C) bend a straight line into the hump, and the best straight line would miss it
    by more than 0.3. The tolerance is the basis's bias plus noise: pieces 8 °C wide miss a
    parabola of curvature 0.004 by up to 0.004 * 8^2 / 6 = 0.04 at a knot, twice that for a
    difference of two points; over seeds 1 to 6 the largest miss was 0.09."""
    model = hump_fit()
    basis = model.features_.weather["temp_c"]
    assert len(basis.knots) == 3
    assert not basis.seasonal  # 280 days: no annual season, so no seasonal slope
    points = [8.0, 15.0, 22.0, 30.0]
    fitted = model.weather_response("temp_c", points)
    fitted -= model.weather_response("temp_c", [22.0])[0]
    assert fitted == pytest.approx(relative(hump, points, 22.0), abs=0.1)
    assert fitted[2] > max(fitted[0], fitted[1], fitted[3])  # it falls on both sides
    slope, _ = np.polyfit(points, relative(hump, points, 22.0), 1)
    line = slope * (np.array(points) - 22.0)
    assert np.max(np.abs(line - relative(hump, points, 22.0))) > 0.3


def test_the_rain_response_saturates_as_log_of_one_plus_mm() -> None:
    """Within 0.04 of 0.15 log(1 + mm) at 1 to 20 mm, relative to the history's median day
    (about dry): a line in mm through the truth at 1 and 20 mm would be 0.09 too low at 5 mm."""
    model = hump_fit()
    basis = model.features_.weather["precip_mm"]
    assert 0.0 <= basis.reference < 0.5  # half the days are dry
    assert "log1p_precip_mm" in model.features_.names
    assert model.coefficients_["log1p_precip_mm"] == pytest.approx(0.15, abs=0.03)
    points = [1.0, 5.0, 20.0]
    assert basis.high > 20.0
    fitted = model.weather_response("precip_mm", points)
    truth = relative(saturating_rain, points, basis.reference)
    assert fitted == pytest.approx(truth, abs=0.04)


def test_a_temperature_beyond_the_history_forecasts_as_the_history_s_extreme() -> None:
    model = hump_fit()
    basis = model.features_.weather["temp_c"]
    date = model.last_date_ + dt.timedelta(3)
    while not entry_slots(VENUE, date):
        date += dt.timedelta(1)

    def market(t: float) -> float:
        return model.log_market(date, {"temp_c": t, "precip_mm": 0.0})

    assert basis.high <= 32.0 and basis.low >= 0.0
    assert market(45.0) == pytest.approx(market(basis.high), abs=1e-12)
    assert market(-15.0) == pytest.approx(market(basis.low), abs=1e-12)
    assert market(45.0) != pytest.approx(market(basis.high - 5.0), abs=1e-3)
    hot, top = (
        model.predict([date], covariates={date: {"temp_c": t, "precip_mm": 0.0}})[0].expected
        for t in (45.0, basis.high)
    )
    assert np.allclose(hot, top)
    assert model.weather_response("temp_c", [45.0]) == pytest.approx(
        model.weather_response("temp_c", [basis.high])
    )


def test_missing_weather_forecasts_with_the_month_s_average_through_the_basis() -> None:
    model = hump_fit()
    features = model.features_
    date = model.last_date_ + dt.timedelta(1)
    while not entry_slots(VENUE, date):
        date += dt.timedelta(1)
    usual = features.climate["temp_c"].get(date.month)
    if usual is None:  # a month the history lacks: the mean of its monthly averages
        usual = float(np.mean(list(features.climate["temp_c"].values())))
    missing = features.row(date, {"temp_c": None, "precip_mm": 2.0})
    given = features.row(date, {"temp_c": usual, "precip_mm": 2.0})
    assert missing == pytest.approx(given, abs=1e-12)
    calendar = parse_calendar(f"date,temp_c,precip_mm\n{date},,2\n")
    assert features.covariate_notes(calendar.days, [date]) == [
        f"temp_c missing for {date}: the month's average used"
    ]


def test_a_history_without_weather_fits_and_forecasts_as_before() -> None:
    history = simulated_history(hump, saturating_rain, days=120, columns=())
    model = MnlDemandModel().fit(history)
    assert model.features_.weather == {}
    assert not [name for name in model.features_.names if "temp" in name or "precip" in name]
    assert model.weather_response("temp_c", [10.0, 20.0]) == pytest.approx([0.0, 0.0])
    forecasts = model.predict(14)
    assert forecasts and all(np.all(np.isfinite(day.expected)) for day in forecasts)
    total = sum(float(day.expected.sum()) for day in forecasts) / len(forecasts)
    # The truth's average day over the uniform weather: E[exp(hump + rain)] of 400 / 2 buyers.
    assert 0.5 * 200 < total < 1.0 * 200
    with pytest.raises(ValueError, match="humidity"):
        model.weather_response("humidity", [1.0])


def test_a_weather_column_that_never_varies_is_left_out_and_named() -> None:
    history = simulated_history(hump, lambda mm: 0.0, days=120)
    for day in history.days.values():
        day.covariates["precip_mm"] = 0.0
    design = build_design(history)
    assert "precip_mm never varies in the history: its effect is taken as 0" in design.notes
    assert set(design.features.weather) == {"temp_c"}
    assert not [name for name in design.features.names if "precip" in name]


def test_knots_sit_on_the_quartiles_and_thin_out_on_little_data() -> None:
    values = [float(v) for v in range(121)]  # 0 ... 120: four pieces of 30 days
    assert knots_from(values) == (30.0, 60.0, 90.0)
    assert knots_from(values[:60]) == (29.5,)  # two pieces of 30 days
    assert knots_from(values[:90]) == (29.7, 59.3)  # three pieces
    assert knots_from(values[:59]) == ()  # under two pieces of 30 days: a straight line
    assert knots_from([1.0, 2.0, 3.0, 4.0] * 50) == ()  # four distinct values: too few
    assert knots_from([float(v % 12) for v in range(200)]) == (5.0,)  # 12 distinct: 2 pieces
    assert knots_from([float(v % 24) for v in range(200)]) == (5.0, 11.0, 17.0)
    assert knots_from([]) == ()


def test_the_basis_row_clamps_and_names_its_columns() -> None:
    basis = WeatherBasis("temp_c", low=-2.0, high=32.0, reference=14.0, knots=(8.0, 12.5))
    assert basis.names == ["temp_c", "temp_c_above_8", "temp_c_above_12.5"]
    assert basis.row(10.0) == {"temp_c": 10.0, "temp_c_above_8": 2.0, "temp_c_above_12.5": 0.0}
    assert basis.row(40.0) == basis.row(32.0)
    assert basis.row(-9.0) == basis.row(-2.0)
    rain = basis_from("precip_mm", [0.0, 0.0, 0.0, 3.0, 20.0], seasonal=True)
    assert rain.names == ["log1p_precip_mm"] and rain.reference == 0.0
    assert rain.row(3.0) == {"log1p_precip_mm": pytest.approx(math.log(4.0))}
    assert rain.row(50.0) == rain.row(20.0)
    seasonal = basis_from("temp_c", [float(v % 30) for v in range(300)], seasonal=True)
    assert seasonal.names[-2:] == ["temp_c_x_annual_sin_1", "temp_c_x_annual_cos_1"]
    row = seasonal.row(20.0, {"annual_sin_1": 0.5, "annual_cos_1": -1.0})
    assert row["temp_c_x_annual_cos_1"] == pytest.approx(-(20.0 - seasonal.center))
    with pytest.raises(ValueError, match="temp_c"):
        seasonal.row(20.0)


def test_a_temperature_effect_that_changes_with_the_season_is_recovered() -> None:
    """Over 400 days the slope on temperature is 0.02 per degree more in midwinter (cos 1)
    than on average, 0.02 less in midsummer; the hinges' curve is flat (no truth besides it).
    The fitted response at 5 and 25 °C, relative to the median (about 16 °C), on 15 January
    and on 15 July, within 0.06 of the truth (0.02 (t - 16) cos_1 on that day)."""
    history = simulated_history(
        lambda t: 0.0, lambda mm: 0.0, days=400, seed=2, seasonal_slope=0.02
    )
    model = MnlDemandModel().fit(history)
    basis = model.features_.weather["temp_c"]
    assert basis.seasonal
    points = [5.0, 25.0]
    for date in (dt.date(2025, 7, 15), dt.date(2026, 1, 15)):
        season = calendar_features(VENUE, date, START)["annual_cos_1"]
        truth = [0.02 * (t - basis.reference) * season for t in points]
        fitted = model.weather_response("temp_c", points, date=date)
        assert fitted == pytest.approx(truth, abs=0.06), date
    assert model.weather_response("temp_c", points) == pytest.approx([0.0, 0.0], abs=0.06)


def test_a_log1p_rain_world_is_drawn_and_read_back_on_log_of_one_plus_mm(tmp_path: Path) -> None:
    """`rain_effect="log1p"` puts the demo world's rain in the model's family; its truth.json
    says so, and the optimizer's reading of that truth computes the same market."""
    world = simulate_world(WorldSpec(seed=3, days=60, slots_per_day=4, rain_effect="log1p"))
    assert "log1p_precip_mm" in world.truth["effects"]
    assert "precip_mm" not in world.truth["effects"]
    write_demo(tmp_path, seed=3, days=60, slots_per_day=4, rain_effect="log1p")
    truth = load_world(tmp_path)
    date = next(d for d, values in truth.calendar.days.items() if values["precip_mm"])
    dry = truth.calendar.days[date] | {"precip_mm": 0.0}
    wet = truth.calendar.days[date]
    ratio = truth.market_size(date)
    truth.calendar.days[date] = dry
    ratio /= truth.market_size(date)
    truth.calendar.days[date] = wet
    effect = world.truth["effects"]["log1p_precip_mm"]
    assert math.log(ratio) == pytest.approx(effect * math.log1p(wet["precip_mm"]))
    with pytest.raises(ValueError, match="rain_effect"):
        simulate_world(WorldSpec(days=30, rain_effect="mm"))
