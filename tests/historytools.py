"""History fixtures built from rows, as a ticketing export would write them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from forecasting.history import History, parse_history
from pricing.venue import Venue


def history_of(rows: Sequence[dict[str, Any]], venue: Venue) -> History:
    """The History CSV of `rows` (the first row's keys are the header), read back through the
    contract."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return parse_history(out.getvalue(), venue)
