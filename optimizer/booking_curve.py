"""How much of a day's demand is still to come, some days before the visit.

The history carries no lead times yet, so this is a documented default, not a fit: a buyer's
lead time (days between booking and visit) is taken as exponential with a mean of
DEFAULT_MEAN_LEAD_DAYS, counting the visit day itself as lead time 0. The share still to come d
days ahead is then P(lead < d + 1) = 1 - exp(-(d + 1) / mean): about 13% on the day, 63% a
week ahead, 99% a month ahead. Learned curves (issue 4's history with lead times) replace it by
passing another `mean_lead_days` or function.
"""

from __future__ import annotations

import math

DEFAULT_MEAN_LEAD_DAYS = 7.0


def remaining_demand_share(
    days_before: int, mean_lead_days: float = DEFAULT_MEAN_LEAD_DAYS
) -> float:
    """Share of the day's buyers who have not booked yet, `days_before` days before the visit."""
    if days_before < 0:
        return 0.0  # the day is over: nobody is still to come
    return 1.0 - math.exp(-(days_before + 1) / mean_lead_days)
