"""History -> the arrays the demand model works on: one row per day, one column per slot of the
venue's slot universe, with masks for slots not offered that day and slots not observed (gaps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from forecasting.features import (
    calendar_features,
    day_types,
    fourier_columns,
    slot_season_row,
    weekday_columns,
)
from forecasting.history import FLAG_COLUMNS, WEATHER_COLUMNS, History
from forecasting.weather import WeatherBasis, basis_from
from pricing.calendar import entry_slots
from pricing.venue import WEEKDAYS, Venue, minutes_of

Array = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

# Continuous columns (these and the weather bases') are standardised for the optimiser;
# coefficients are reported per unit.
_CONTINUOUS = ("trend",)
MIN_SEASON_DAYS = 300  # first to last date, for a trend and an annual season to be fitted
HOLIDAY_ROW = 7  # the slot-profile row of a holiday on a week day, after the 7 weekdays


@dataclass
class FeatureMap:
    """How a day's covariates become a standardised row of x_d; fixed at fit time."""

    venue: Venue
    origin: dt.date
    names: list[str]  # "intercept" first
    center: Array
    scale: Array
    climate: dict[str, dict[int, float]]  # weather column -> month -> history mean
    day_type_of_weekday: dict[str, str]
    types: list[str]
    slots: list[str]  # the slot universe, in time order
    seasonal: bool = False  # a trend, an annual season and seasonal slot profiles are fitted
    weather: dict[str, WeatherBasis] = field(default_factory=dict)  # weather column -> its basis

    def row(self, date: dt.date, covariates: dict[str, float | None]) -> Array:
        values = calendar_features(self.venue, date, self.origin)
        for column in self.names:
            if column in FLAG_COLUMNS:
                values[column] = covariates.get(column) or 0.0
        for column, basis in self.weather.items():
            known = covariates.get(column)
            values |= basis.row(self._climate(column, date) if known is None else known, values)
        raw = np.array([1.0] + [values[name] for name in self.names[1:]])
        return np.asarray((raw - self.center) / self.scale, dtype=np.float64)

    def covariate_notes(
        self, calendar: Mapping[dt.date, Mapping[str, float | None]], dates: Sequence[dt.date]
    ) -> list[str]:
        """What `row` fills in for the calendar's `dates`: for each covariate the model uses
        and the calendar leaves empty (or has no column for), one note naming the dates (a
        count and the first and last when there are many) and what was used instead: the
        month's average weather in the history (the mean of its monthly averages for a month it
        lacks), or 0 for a flag. Dates not in the calendar, or without entry slots, are not told
        here."""
        known = [d for d in dates if d in calendar and self.type_index(d) is not None]
        notes: list[str] = []
        for column in [*(c for c in self.names if c in FLAG_COLUMNS), *self.weather]:
            missing = [d for d in known if calendar[d].get(column) is None]
            if column in FLAG_COLUMNS and missing:
                notes.append(f"{column} missing for {_dates(missing)}: taken as 0")
            elif column in self.weather and missing:
                by_month = self.climate[column]
                usual = [d for d in missing if d.month in by_month]
                other = [d for d in missing if d.month not in by_month]
                if usual:
                    notes.append(f"{column} missing for {_dates(usual)}: the month's average used")
                if other:
                    notes.append(
                        f"{column} missing for {_dates(other)}: the mean of the history's "
                        "monthly averages used (it has no such month)"
                    )
        return notes

    def _climate(self, column: str, date: dt.date) -> float:
        by_month = self.climate[column]
        return by_month.get(date.month, float(np.mean(list(by_month.values()))))

    def type_index(self, date: dt.date) -> int | None:
        if not entry_slots(self.venue, date):
            return None
        return self.types.index(self.day_type_of_weekday[WEEKDAYS[date.weekday()]])

    def profile(self, date: dt.date, covariates: Mapping[str, float | None]) -> tuple[int, int]:
        """The slot profile a day follows: its day type and its row of weekday offsets, the
        weekday (0 = Monday), or `HOLIDAY_ROW` for a holiday on a week day: visitors on a day off
        may arrive like weekend visitors, and the holiday row learns how far. Open days only."""
        own = self.type_index(date)
        assert own is not None, "profile() is for open days"
        if covariates.get("holiday") and not self.types[own].startswith(("sat", "sun")):
            return own, HOLIDAY_ROW
        return own, date.weekday()


@dataclass
class Design:
    features: FeatureMap
    dates: list[dt.date]
    x: Array  # days x features (standardised)
    day_type: npt.NDArray[np.int64]  # days: the slot profile's day type (FeatureMap.profile)
    weekday: npt.NDArray[np.int64]  # days: the slot profile's row, 0 = Monday, HOLIDAY_ROW
    season: Array  # days x slot-season terms (features.slot_season_row)
    offered: Mask  # days x slots: on the day's grid
    observed: Mask  # days x slots: a history row exists
    censored: Mask  # days x slots: sold out, so demand >= sold
    sold: Array
    price: Array  # where offered but not observed: the day's median observed price
    capacity_left: Array  # capacity - members
    notes: list[str]


def build_design(history: History) -> Design:
    venue = history.venue
    types_of = day_types(venue)
    types = sorted(set(types_of.values()), key=lambda name: WEEKDAYS.index(name[:3]))
    slots = sorted({slot for grid in venue.weekday_slots.values() for slot in grid}, key=minutes_of)
    span = (history.last_date - history.first_date).days + 1
    # Over less than most of a year a trend and an annual season are confounded with each other
    # and with the weather, and extrapolate without bound past a gap: leave both out.
    seasonal = span >= MIN_SEASON_DAYS
    columns = [
        "intercept",
        *(["trend"] if seasonal else []),
        *weekday_columns(venue),
        *(fourier_columns() if seasonal else []),
        *[c for c in FLAG_COLUMNS if c in history.covariate_columns],
    ]
    weather, steady = _weather_bases(history, seasonal=seasonal)
    columns += [name for basis in weather.values() for name in basis.names]
    features = FeatureMap(
        venue, history.first_date, columns, np.zeros(len(columns)), np.ones(len(columns)),
        _climate(history), types_of, types, slots, seasonal, weather,
    )  # fmt: skip
    dates = list(history.days)
    raw = np.array([features.row(date, history.days[date].covariates) for date in dates])
    # A covariate that never varies (no event in the history, no Fridays) has no estimable
    # effect: leave it out, so the forecast takes it as 0 and says so, instead of guessing.
    constant = [j for j in range(1, len(columns)) if np.ptp(raw[:, j]) == 0]
    notes = [
        f"{name} never varies in the history: its effect is taken as 0"
        for name in [*(columns[j] for j in constant), *steady]
    ]
    if not seasonal:
        notes.append(
            f"the history spans {span} days, under {MIN_SEASON_DAYS}: no trend or annual season "
            "is fitted"
        )
    keep = [j for j in range(len(columns)) if j not in constant]
    columns = [columns[j] for j in keep]
    raw = raw[:, keep]
    features.names = columns
    features.center, features.scale = np.zeros(len(columns)), np.ones(len(columns))
    continuous = {*_CONTINUOUS, *(name for basis in weather.values() for name in basis.names)}
    for j, name in enumerate(columns):
        if name in continuous and raw[:, j].std() > 0:
            features.center[j] = raw[:, j].mean()
            features.scale[j] = raw[:, j].std()
    x = (raw - features.center) / features.scale

    shape = (len(dates), len(slots))
    offered, observed, censored = (np.zeros(shape, dtype=bool) for _ in range(3))
    sold, price, capacity_left = (np.zeros(shape) for _ in range(3))
    column_of = {slot: j for j, slot in enumerate(slots)}
    day_type, weekday = np.zeros(len(dates), dtype=np.int64), np.zeros(len(dates), dtype=np.int64)
    season = np.array([slot_season_row(date) for date in dates]).reshape(len(dates), -1)
    for i, date in enumerate(dates):
        day = history.days[date]
        if entry_slots(venue, date):
            day_type[i], weekday[i] = features.profile(date, day.covariates)
        fill = float(np.median([record.price for record in day.slots.values()]))
        for slot in entry_slots(venue, date):
            j = column_of[slot]
            offered[i, j] = True
            price[i, j] = fill
        for slot, record in day.slots.items():
            j = column_of[slot]
            left = record.capacity - record.members
            # A slot wholly taken by members says nothing about paid demand.
            observed[i, j] = left > 0
            censored[i, j] = record.sold_out and left > 0
            sold[i, j] = record.sold
            price[i, j] = record.price
            capacity_left[i, j] = left
    return Design(
        features, dates, x, day_type, weekday, season, offered, observed, censored, sold, price,
        capacity_left, notes,
    )  # fmt: skip


def recent_members(history: History, weeks: int = 8) -> dict[tuple[int, str], float]:
    """Mean free member visits per weekday and slot over the last `weeks` weeks: members use
    capacity but pay nothing, so the optimizer plans around them."""
    since = history.last_date - dt.timedelta(7 * weeks)
    visits: dict[tuple[int, str], list[int]] = {}
    for date, day in history.days.items():
        if date > since:
            for slot, record in day.slots.items():
                visits.setdefault((date.weekday(), slot), []).append(record.members)
    return {key: float(np.mean(values)) for key, values in visits.items()}


def _weather_bases(
    history: History, *, seasonal: bool
) -> tuple[dict[str, WeatherBasis], list[str]]:
    """The basis of each weather column of the history, and the columns left out because their
    recorded values never vary (nor then do the month's averages that fill the gaps): their
    basis columns would all be constant, and the note names the column the user wrote."""
    bases: dict[str, WeatherBasis] = {}
    steady: list[str] = []
    for column in (c for c in WEATHER_COLUMNS if c in history.covariate_columns):
        recorded = [
            value
            for day in history.days.values()
            if (value := day.covariates.get(column)) is not None
        ]
        if len(set(recorded)) < 2:
            steady.append(column)
        else:
            bases[column] = basis_from(column, recorded, seasonal=seasonal)
    return bases, steady


def _climate(history: History) -> dict[str, dict[int, float]]:
    climate: dict[str, dict[int, float]] = {}
    for column in WEATHER_COLUMNS:
        if column not in history.covariate_columns:
            continue
        by_month: dict[int, list[float]] = {}
        for date, day in history.days.items():
            value = day.covariates.get(column)
            if value is not None:
                by_month.setdefault(date.month, []).append(value)
        climate[column] = {month: float(np.mean(v)) for month, v in by_month.items()}
        if not climate[column]:
            climate[column] = {1: 0.0}
    return climate


def _dates(dates: Sequence[dt.date]) -> str:
    """'2026-12-03', '2026-12-03 and 2026-12-05', or '14 dates (2026-12-03 to 2026-12-16)'."""
    ordered = sorted(dates)
    if len(ordered) == 1:
        return str(ordered[0])
    if len(ordered) == 2:
        return f"{ordered[0]} and {ordered[1]}"
    return f"{len(ordered)} dates ({ordered[0]} to {ordered[-1]})"
