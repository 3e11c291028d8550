"""Forecast JSON (DESIGN.md contract): what the forecaster writes and the optimizer reads.

Beyond the contract's keys it carries per slot `members` (expected free member visits, the
recent average for that weekday and slot; they use capacity) and `notes` (the prior was used,
days assumed ordinary, the fallback ran...). Days the calendar closes, or the venue has no
entry slots for, are left out."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forecasting.gate import ForecastModel, reads_covariates
from forecasting.history import Calendar
from pricing.venue import Venue


def calendar_notes(calendar: Calendar, dates: Sequence[dt.date]) -> tuple[list[str], list[dt.date]]:
    """What to tell of the calendar for `dates` (its warnings, the days it shuts, the days it
    does not know), and the dates it leaves open."""
    notes = list(calendar.warnings)
    closed = [d for d in dates if d in calendar.closed]
    if closed:
        notes.append(f"closed by the calendar, not forecast: {', '.join(map(str, closed))}")
    unknown = [d for d in dates if d not in calendar.days and d not in calendar.closed]
    if unknown:
        notes.append(
            f"{len(unknown)} day(s) not in the calendar (first {unknown[0]}): assumed "
            "ordinary, weather at the history's monthly average"
        )
    return notes, [d for d in dates if d not in calendar.closed]


def build_forecast(
    model: ForecastModel,
    venue: Venue,
    start: dt.date,
    days: int,
    *,
    calendar: Calendar | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    dates = [start + dt.timedelta(i) for i in range(days)]
    notes = list(model.notes_)
    covariates: dict[dt.date, dict[str, float | None]] = {}
    if calendar is None:
        notes.append("no calendar: every day is assumed an ordinary open day")
    else:
        covariates = calendar.days
        told, dates = calendar_notes(calendar, dates)
        notes.extend(told)
        if reads_covariates(model):  # the fallback and seasonal naive read none
            notes.extend(model.features_.covariate_notes(calendar.days, dates))
    if model.price_sensitivity_source_ == "prior":
        notes.append(f"price sensitivity {model.price_sensitivity_:g} is the venue's prior")
    ladder = list(venue.prices.ladder)
    forecasts = model.predict(dates, level=80, covariates=covariates, price_points=ladder)
    created = created_at or dt.datetime.now(dt.UTC)
    return {
        "venue": venue.id,
        "created_at": created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": model.name,
        "price_points": ladder,
        "notes": list(dict.fromkeys(notes)),
        "days": [
            {
                "date": day.date.isoformat(),
                "arrivals": round(day.arrivals, 1),
                "arrivals_p10": round(day.arrivals_low, 1),
                "arrivals_p90": round(day.arrivals_high, 1),
                "slots": [
                    {
                        "slot": slot,
                        "weights": [float(f"{w:.4g}") for w in day.weights[i]],
                        "expected": round(float(day.expected[i]), 1),
                        "p10": float(day.low[i]),
                        "p90": float(day.high[i]),
                        "members": round(model.members_.get((day.date.weekday(), slot), 0.0), 1),
                    }
                    for i, slot in enumerate(day.slots)
                ],
            }
            for day in forecasts
        ],
    }


def write_forecast(path: str | Path, forecast: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(forecast, indent=1) + "\n", encoding="utf-8")
