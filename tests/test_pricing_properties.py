"""Properties of the pricing core, each checked against a reference written independently here."""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pricing.errors import InvalidInput, SoldOut, TokenRejected
from pricing.money import scale_cents, to_cents, to_units, vat_included
from pricing.plan import Plan, PlanDay, PlanSlot, SlotPricing, Step, compile_plan
from pricing.quote import price_tickets, quote_order
from pricing.token import QuoteSigner, TokenClaims, canonical, match_order
from pricing.venue import parse_venue

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "venues" / "city-museum.toml"
VENUE = parse_venue(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))
SEGMENTS = list(VENUE.segments)  # adult, senior, student, child, member: the pricing order
TUESDAY = dt.date(2027, 1, 5)
NOW = 1_800_000_000
PLAN = compile_plan(Plan(venue=VENUE.id, currency=VENUE.currency, days=[]), VENUE, "v1")

# --- references, written without the code under test ---------------------------------------------


def half_up(value: Fraction) -> int:
    """The nearest integer to a non-negative value, halves rounded up."""
    return math.floor(value + Fraction(1, 2))


def reference_price(steps: list[tuple[int, int]], position: int, factor: float) -> int:
    """The step price at a 0-based sales position, from the steps written out one ticket each."""
    per_position = [price for price, units in steps for _ in range(units)]
    adult = per_position[position] if position < len(per_position) else steps[-1][0]
    return half_up(adult * Fraction(str(factor)))


def slot_pricing(steps: list[tuple[int, int]], capacity: int) -> SlotPricing:
    """One slot of the example venue on a Tuesday at 10:00, through the real plan compiler."""
    plan_slot = PlanSlot(
        slot="10:00",
        capacity=capacity,
        steps=[Step(price=cents / 100, units=units) for cents, units in steps],
    )
    plan = Plan(
        venue=VENUE.id,
        currency=VENUE.currency,
        days=[PlanDay(date=TUESDAY, slots=[plan_slot])],
    )
    return compile_plan(plan, VENUE, "v1").days[TUESDAY]["10:00"]


# --- strategies ----------------------------------------------------------------------------------


@st.composite
def step_tables(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Ascending step prices (cents) with units, some of them zero."""
    count = draw(st.integers(1, 6))
    prices = sorted(draw(st.sets(st.integers(0, 40_000), min_size=count, max_size=count)))
    units = draw(st.lists(st.integers(0, 25), min_size=count, max_size=count))
    return list(zip(prices, units, strict=True))


@st.composite
def slot_sales(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int, int, dict[str, int]]:
    """A step table, a capacity, a sold count and an order that fits in what is left."""
    steps = draw(step_tables())
    capacity = draw(st.integers(1, 150))
    sold = draw(st.integers(0, capacity - 1))
    left = capacity - sold
    quantities = draw(st.lists(st.integers(0, 4), min_size=len(SEGMENTS), max_size=len(SEGMENTS)))
    tickets = {s: q for s, q in zip(SEGMENTS, quantities, strict=True) if q}
    assume(0 < sum(tickets.values()) <= left)
    return steps, capacity, sold, tickets


def order_positions(sold: int, tickets: dict[str, int]) -> list[tuple[str, int]]:
    """(segment, position) of each ticket: segments in the venue's order, from `sold` on."""
    out, position = [], sold
    for segment in SEGMENTS:
        for _ in range(tickets.get(segment, 0)):
            out.append((segment, position))
            position += 1
    return out


# --- walking the steps ---------------------------------------------------------------------------


@given(slot_sales())
def test_an_order_costs_the_sum_of_its_step_prices(sale):
    steps, capacity, sold, tickets = sale
    pricing = slot_pricing(steps, capacity)

    lines = price_tickets(pricing, sold, tickets)

    expected = [
        reference_price(steps, position, VENUE.segments[segment])
        for segment, position in order_positions(sold, tickets)
    ]
    assert [price for line in lines for price in line.unit_prices] == expected
    assert sum(line.amount for line in lines) == sum(expected)
    assert [(line.segment, line.quantity) for line in lines] == list(tickets.items())


@given(slot_sales())
def test_a_quote_that_fits_totals_the_reference_and_one_that_does_not_is_sold_out(sale):
    steps, capacity, sold, tickets = sale
    pricing = slot_pricing(steps, capacity)
    day = {"10:00": pricing}
    expected = sum(
        reference_price(steps, position, VENUE.segments[segment])
        for segment, position in order_positions(sold, tickets)
    )

    order = quote_order(PLAN, day, pricing, {"10:00": sold}, tickets, 0.09, 0)
    assert order.total == expected

    needed = sum(tickets.values())
    too_many = capacity - needed + 1  # one more sold and the order no longer fits
    with pytest.raises(SoldOut) as caught:
        quote_order(PLAN, day, pricing, {"10:00": too_many}, tickets, 0.09, 0)
    assert caught.value.extra["remaining"] == needed - 1


@given(step_tables(), st.integers(0, 120), st.integers(1, 40))
def test_buying_one_at_a_time_costs_the_same_as_buying_at_once(steps, sold, n):
    pricing = slot_pricing(steps, sold + n)
    (at_once,) = price_tickets(pricing, sold, {"adult": n})
    one_by_one = [price_tickets(pricing, sold + i, {"adult": 1})[0].amount for i in range(n)]
    assert list(at_once.unit_prices) == one_by_one
    assert at_once.amount == sum(one_by_one)


@given(slot_sales())
def test_a_mixed_order_one_ticket_at_a_time_costs_the_same(sale):
    steps, capacity, sold, tickets = sale
    pricing = slot_pricing(steps, capacity)
    at_once = sum(line.amount for line in price_tickets(pricing, sold, tickets))
    one_by_one = sum(
        price_tickets(pricing, position, {segment: 1})[0].amount
        for segment, position in order_positions(sold, tickets)
    )
    assert at_once == one_by_one


@given(step_tables(), st.integers(1, 150))
def test_unit_prices_never_fall_as_a_slot_fills(steps, capacity):
    pricing = slot_pricing(steps, capacity)
    for segment in SEGMENTS:
        (line,) = price_tickets(pricing, 0, {segment: capacity + 5})
        assert all(a <= b for a, b in zip(line.unit_prices, line.unit_prices[1:], strict=False))


# --- money ---------------------------------------------------------------------------------------

two_decimals = st.decimals(min_value=0, max_value=10_000_000, places=2)


@given(two_decimals)
def test_cents_and_units_round_trip_on_two_decimal_amounts(amount):
    cents = int(amount * 100)
    assert to_cents(amount) == cents
    assert to_cents(str(amount)) == cents
    assert to_cents(float(amount)) == cents
    assert to_units(cents) == float(amount)
    assert to_cents(to_units(cents)) == cents


@given(st.integers(0, 10**12))
def test_whole_cents_round_trip_through_units(cents):
    assert to_cents(to_units(cents)) == cents


factors = st.one_of(
    st.floats(min_value=0, max_value=10, allow_nan=False, allow_infinity=False),
    st.integers(0, 1000).map(lambda n: n / 100),
)


@given(st.integers(0, 10**8), factors)
def test_scale_cents_rounds_half_up_like_decimal(cents, factor):
    with localcontext() as context:
        context.prec = 80
        exact = Decimal(cents) * Decimal(repr(factor))
        expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert scale_cents(cents, factor) == expected
    assert scale_cents(cents, factor) == half_up(cents * Fraction(repr(factor)))


vat_rates = st.integers(0, 9_999).map(lambda n: n / 10_000)


@given(st.integers(0, 10**9), vat_rates)
def test_vat_and_net_make_the_gross(gross, rate):
    vat = vat_included(gross, rate)
    net = gross - vat
    r = Fraction(str(rate))
    assert vat == half_up(gross * r / (1 + r))
    assert 0 <= vat <= gross
    assert net + vat == gross
    # net * rate is the VAT to within the rounding of one cent of the gross
    assert abs(net * r - vat) <= (1 + r) / 2


# --- quote tokens --------------------------------------------------------------------------------

segment_names = st.sampled_from(SEGMENTS)
keys = st.binary(min_size=16, max_size=48)


@st.composite
def token_claims(draw: st.DrawFn) -> TokenClaims:
    segments = draw(st.lists(segment_names, min_size=1, max_size=4, unique=True))
    lines = []
    for segment in segments:
        quantity = draw(st.integers(1, 5))
        prices = draw(st.lists(st.integers(0, 40_000), min_size=quantity, max_size=quantity))
        lines.append((segment, quantity, tuple(prices)))
    return TokenClaims(
        quote_id=draw(st.text(min_size=1, max_size=24)),
        venue=draw(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,15}", fullmatch=True)),
        date=draw(st.dates()).isoformat(),
        slot=draw(st.from_regex(r"([01][0-9]|2[0-3]):[0-5][0-9]", fullmatch=True)),
        lines=tuple(lines),
        total=sum(sum(prices) for _, _, prices in lines),
        plan_version=draw(st.from_regex(r"[A-Za-z0-9:._+-]{1,30}", fullmatch=True)),
        expires_at=draw(st.integers(NOW, NOW + 10**6)),
    )


BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
REPLACEMENTS = BASE64URL + "+/=. !~\u00e9"


@given(token_claims(), keys)
def test_a_signed_token_verifies_to_the_same_claims(claims, key):
    signer = QuoteSigner([key])
    assert signer.verify(signer.sign(claims), now=claims.expires_at - 1) == claims


@given(token_claims(), keys, st.data())
def test_any_single_character_change_is_rejected(claims, key, data):
    signer = QuoteSigner([key])
    token = signer.sign(claims)
    part_ends = [token.index(".") - 1, len(token) - 1]  # where base64 has unused bits
    i = data.draw(st.integers(0, len(token) - 1) | st.sampled_from(part_ends), label="position")
    new = data.draw(st.sampled_from(REPLACEMENTS).filter(lambda c: c != token[i]), label="char")
    tampered = token[:i] + new + token[i + 1 :]
    with pytest.raises(TokenRejected) as caught:
        signer.verify(tampered, now=NOW - 1)
    assert caught.value.field == "token"


@given(token_claims(), keys, keys)
def test_a_token_signed_with_another_key_is_rejected(claims, key, other):
    assume(key != other)
    forged = QuoteSigner([other]).sign(claims)
    with pytest.raises(TokenRejected) as caught:
        QuoteSigner([key]).verify(forged, now=NOW - 1)
    assert "signature" in caught.value.detail


@given(token_claims(), keys, keys)
def test_rotation_verifies_with_any_key_and_signs_with_the_first(claims, new, old):
    assume(new != old)
    now = claims.expires_at - 1
    rotated = QuoteSigner([new, old])

    assert rotated.verify(QuoteSigner([old]).sign(claims), now=now) == claims

    token = rotated.sign(claims)
    assert token == QuoteSigner([new]).sign(claims)
    assert QuoteSigner([new]).verify(token, now=now) == claims
    with pytest.raises(TokenRejected):
        QuoteSigner([old]).verify(token, now=now)


@given(token_claims(), keys, st.integers(0, 10**6))
def test_a_token_is_rejected_from_its_expiry_on(claims, key, late):
    signer = QuoteSigner([key])
    token = signer.sign(claims)
    assert signer.verify(token, now=claims.expires_at - 1) == claims
    with pytest.raises(TokenRejected) as caught:
        signer.verify(token, now=claims.expires_at + late)
    assert "expired" in caught.value.detail


def test_signing_needs_a_key():
    with pytest.raises(InvalidInput) as caught:
        QuoteSigner([])
    assert caught.value.field == "token_keys"


EXAMPLE_CLAIMS = TokenClaims(
    quote_id="q-1",
    venue="city-museum",
    date="2027-01-05",
    slot="10:00",
    lines=(("adult", 2, (1400, 1800)), ("child", 1, (0,))),
    total=3200,
    plan_version="2027-01-04T02:00:00Z-3f9c",
    expires_at=NOW + 900,
)


SIGNER = QuoteSigner([b"k" * 32])


def example_token(holding: str = "") -> str:
    """A genuine token of the example claims, one whose MAC part holds `holding` if asked."""
    others = (replace(EXAMPLE_CLAIMS, quote_id=f"q-{n}") for n in range(2, 1000))
    for claims in (EXAMPLE_CLAIMS, *others):
        token = SIGNER.sign(claims)
        if holding in token.split(".")[1]:
            return token
    raise AssertionError(f"no MAC with {holding!r}")


def test_the_example_token_verifies():
    assert SIGNER.verify(example_token(), now=NOW) == EXAMPLE_CLAIMS


def test_a_mac_spelled_with_its_unused_low_bits_set_is_rejected():
    # 32 MAC bytes take 43 characters, whose last 2 bits are unused: same bytes, other spelling
    payload, mac = example_token().split(".")
    last = BASE64URL.index(mac[-1])
    respelled = mac[:-1] + BASE64URL[last ^ 1]
    with pytest.raises(TokenRejected):
        SIGNER.verify(f"{payload}.{respelled}", now=NOW)


@pytest.mark.parametrize(("url", "standard"), [("-", "+"), ("_", "/")])
def test_the_standard_base64_alphabet_is_not_accepted(url, standard):
    token = example_token(holding=url)
    payload, mac = token.split(".")
    with pytest.raises(TokenRejected):
        SIGNER.verify(f"{payload}.{mac.replace(url, standard)}", now=NOW)


@pytest.mark.parametrize(
    "respell",
    [
        lambda payload, mac: f"{payload}.{mac}=",
        lambda payload, mac: f"{payload}=.{mac}",
        lambda payload, mac: "",
        lambda payload, mac: payload,
        lambda payload, mac: f"{payload}.{mac}.{mac}",
        lambda payload, mac: f"{payload[:-1]}.{mac}",
        lambda payload, mac: f"{payload}.{mac[:-1]}",
        lambda payload, mac: f"{payload}.{mac}\u00e9",
    ],
)
def test_malformed_or_padded_tokens_are_rejected(respell):
    payload, mac = example_token().split(".")
    with pytest.raises(TokenRejected) as caught:
        SIGNER.verify(respell(payload, mac), now=NOW)
    assert caught.value.field == "token"


# --- the order must be what was quoted -----------------------------------------------------------

ORDER = {
    "venue": "city-museum",
    "date": "2027-01-05",
    "slot": "10:00",
    "tickets": {"adult": 2, "child": 1},
}


def test_the_quoted_order_matches():
    match_order(EXAMPLE_CLAIMS, **ORDER)
    match_order(EXAMPLE_CLAIMS, **{**ORDER, "tickets": {"child": 1, "adult": 2, "senior": 0}})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"venue": "city-zoo"}, "venue"),
        ({"date": "2027-01-06"}, "date"),
        ({"slot": "10:30"}, "slot"),
        ({"tickets": {"adult": 3, "child": 1}}, "tickets"),
        ({"tickets": {"adult": 2}}, "tickets"),
        ({"tickets": {"adult": 2, "child": 1, "senior": 1}}, "tickets"),
        ({"tickets": {"adult": 1, "senior": 1, "child": 1}}, "tickets"),
    ],
)
def test_an_order_other_than_the_one_quoted_is_rejected(change, field):
    with pytest.raises(TokenRejected) as caught:
        match_order(EXAMPLE_CLAIMS, **{**ORDER, **change})
    assert caught.value.field == field
    assert field in caught.value.detail


@given(token_claims(), st.sampled_from(["venue", "date", "slot", "tickets"]), st.data())
def test_any_difference_from_the_quoted_order_is_named(claims, field, data):
    order = {
        "venue": claims.venue,
        "date": claims.date,
        "slot": claims.slot,
        "tickets": dict(claims.tickets),
    }
    match_order(claims, **order)
    if field == "tickets":
        segment = data.draw(segment_names)
        order["tickets"][segment] = order["tickets"].get(segment, 0) + 1
    else:
        other = data.draw(st.text(min_size=1, max_size=12).filter(lambda t: t != order[field]))
        order[field] = other
    with pytest.raises(TokenRejected) as caught:
        match_order(claims, **order)
    assert caught.value.field == field


@given(
    quote_id=st.text(max_size=20),
    venue=st.text(max_size=20),
    segment=st.text(min_size=1, max_size=10),
    units=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6),
    plan=st.text(max_size=30),
    expires=st.integers(min_value=0, max_value=2**40),
)
def test_the_hand_written_canonical_form_is_compact_json(
    quote_id, venue, segment, units, plan, expires
):
    claims = TokenClaims(
        quote_id,
        venue,
        "2027-01-05",
        "10:00",
        ((segment, len(units), tuple(units)),),
        sum(units),
        plan,
        expires,
    )
    expected = [
        1,
        quote_id,
        venue,
        "2027-01-05",
        "10:00",
        [[segment, len(units), units]],
        sum(units),
        plan,
        expires,
    ]
    assert canonical(claims) == json.dumps(expected, separators=(",", ":")).encode()
