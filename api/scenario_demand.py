"""A scenario's demand: the venue's fitted model, forecast for the scenario's days, with the
demand overrides applied.

Loads numpy and the forecasting package: import it only inside work that runs off the event
loop (`api.scenario_run`), never from the app or a route.

Under the MNL a slot's choice weight at price p is v(p) = v(r) exp(-b (p - r)) for a reference
price r, so one weight per slot and b give the weight at any price: the scenario's ladder, the
live plan's prices, a changed price sensitivity.

- `demand` multipliers scale the day's market A_d (overlapping ranges multiply);
- `events` set the day's event flag, which the model prices in where the history has an
  `event` column; otherwise DEFAULT_EVENT_UPLIFT scales the market, and a note says so;
- `price_sensitivity` replaces b; `members_multiplier` scales the expected member visits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from api.scenario_request import Overrides
from forecasting.forecast import calendar_notes
from forecasting.gate import ForecastModel, fit_forecaster, reads_covariates
from forecasting.history import Calendar, parse_history
from pricing.venue import Venue

FloatArray = npt.NDArray[np.float64]

DEFAULT_EVENT_UPLIFT = 1.3
MODEL_CACHE_SIZE = 8


@dataclass(frozen=True)
class SlotDemand:
    slot: str
    weight: float  # MNL choice weight v at the reference price
    members: float  # expected free member visits (they use capacity)


@dataclass(frozen=True)
class DemandDay:
    date: dt.date
    arrivals: float  # A_d: potential buyers of the day, overrides applied
    slots: tuple[SlotDemand, ...]


@dataclass(frozen=True)
class ScenarioDemand:
    days: dict[dt.date, DemandDay]
    price_sensitivity: float
    reference_price: float
    model: str
    notes: list[str] = field(default_factory=list)

    def weights(self, day: DemandDay, prices: Sequence[float]) -> FloatArray:
        """Slots x prices: each slot's choice weight at each price."""
        base = np.array([slot.weight for slot in day.slots])
        shift = np.exp(-self.price_sensitivity * (np.asarray(prices) - self.reference_price))
        return np.asarray(base[:, None] * shift[None, :], dtype=np.float64)


class _ModelCache:
    """Fitted models by venue rules and history content: a repeated scenario never refits."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._models: OrderedDict[tuple[str, str], ForecastModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, venue: Venue, history_csv: str, history_version: str) -> ForecastModel:
        venue_digest = hashlib.sha256(venue.model_dump_json().encode()).hexdigest()
        key = (venue_digest, history_version)
        # One lock for the fit too: two scenarios of one venue wait for one fit, not two.
        with self._lock:
            model = self._models.get(key)
            if model is None:
                history = parse_history(history_csv, venue, source=f"{venue.id} history")
                model = fit_forecaster(history)
                self._models[key] = model
                while len(self._models) > self._size:
                    self._models.popitem(last=False)
            self._models.move_to_end(key)
            return model


fitted_models = _ModelCache(MODEL_CACHE_SIZE)


def scenario_demand(
    model: ForecastModel,
    dates: Sequence[dt.date],
    overrides: Overrides,
    calendar: Calendar | None = None,
) -> ScenarioDemand:
    """Demand of the scenario's days: the venue's calendar (holidays, events, weather, closed
    days) where it has one, the scenario's events and demand multipliers on top."""
    notes = list(dict.fromkeys(model.notes_))
    known: dict[dt.date, dict[str, float | None]] = {}
    if calendar is None:
        notes.append(
            "no calendar: days are ordinary but for the scenario's events, weather at the "
            "history's monthly averages"
        )
    else:
        known = calendar.days
        told, dates = calendar_notes(calendar, dates)
        notes.extend(told)
        if not reads_covariates(model):
            notes.append(
                f"the {model.name} model cannot use the calendar's holidays, events and weather "
                "(only its closed days)"
            )
    # The calendar's event days are events as much as the scenario's own.
    events = set(overrides.events) | {d for d in dates if known.get(d, {}).get("event") == 1}
    event_in_model = "event" in model.features_.names and reads_covariates(model)
    if events and not event_in_model:
        notes.append(
            f"the history has no event column, so event days get a default "
            f"x{DEFAULT_EVENT_UPLIFT:g} market"
        )
    reference = float(model.base_price_)
    b = overrides.price_sensitivity or float(model.price_sensitivity_)
    if overrides.price_sensitivity is not None:
        notes.append(
            f"price sensitivity {b:g} instead of the model's {model.price_sensitivity_:.4g}"
        )
    members_factor = 1.0 if overrides.members_multiplier is None else overrides.members_multiplier
    days: dict[dt.date, DemandDay] = {}
    for date in dates:
        covariates = dict(known.get(date, {}))
        slots, weights = model.slot_weights(date, np.array([reference]), covariates)
        if not slots:
            continue  # the venue is closed that day
        if date in events:
            covariates["event"] = 1.0
        covariates.setdefault("event", 0.0)
        arrivals = float(np.exp(model.log_market(date, covariates)))
        if date in events and not event_in_model:
            arrivals *= DEFAULT_EVENT_UPLIFT
        arrivals *= overrides.demand_multiplier_on(date)
        days[date] = DemandDay(
            date,
            arrivals,
            tuple(
                SlotDemand(
                    slot,
                    float(weights[i, 0]),
                    model.members_.get((date.weekday(), slot), 0.0) * members_factor,
                )
                for i, slot in enumerate(slots)
            ),
        )
    return ScenarioDemand(days, b, reference, model.name, notes)
