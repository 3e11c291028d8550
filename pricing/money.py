"""Money is held in integer cents: sums stay exact and the hot path never touches floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def to_cents(amount: float | int | str | Decimal) -> int:
    """Currency units to whole cents, rounding half up (12.345 -> 1235)."""
    return int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_units(cents: int) -> float:
    """Whole cents back to currency units for JSON (1235 -> 12.35).

    Division is correctly rounded, so this is the same float as Decimal("12.35") would give.
    """
    return cents / 100


def scale_cents(cents: int, factor: float) -> int:
    """A price times a segment factor, rounded half up to the cent (1999 * 0.8 -> 1599)."""
    exact = Decimal(cents) * Decimal(str(factor))
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_included(gross_cents: int, vat_rate: float) -> int:
    """The VAT inside a VAT-inclusive amount: gross * r / (1 + r), rounded half up."""
    rate = Decimal(str(vat_rate))
    exact = Decimal(gross_cents) * rate / (1 + rate)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
