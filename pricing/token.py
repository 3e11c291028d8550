"""Quote tokens: an HMAC-SHA256 over the canonical form of what was quoted.

A token is `base64url(payload).base64url(mac)`. The payload carries everything the sale needs
to honour the price, so a sale is checked without any stored quote. Several keys verify; the
first signs, so a key can be rotated in before the old one is retired.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pricing.errors import InvalidInput, TokenRejected


@dataclass(frozen=True, slots=True)
class TokenClaims:
    quote_id: str
    venue: str
    date: str
    slot: str
    lines: tuple[tuple[str, int, tuple[int, ...]], ...]  # segment, quantity, unit prices (cents)
    total: int  # cents
    plan_version: str
    expires_at: int  # unix seconds

    @property
    def tickets(self) -> dict[str, int]:
        return {segment: quantity for segment, quantity, _ in self.lines}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # The decoder is lenient (unused low bits, "+" for "-", "=" padding, stray characters):
    # accept only the one spelling we sign, so a token cannot be altered and still verify.
    if _b64(raw) != text:
        raise ValueError("not canonical unpadded base64url")
    return raw


def canonical(claims: TokenClaims) -> bytes:
    """Compact JSON of the claims in a fixed order: version 1 is a positional array.

    Written out by hand because it is made for every quote: the same bytes as
    `json.dumps([1, quote_id, venue, date, slot, lines, total, plan, expires],
    separators=(",", ":"))`, with the lines' JSON reused from one quote to the next.
    """
    text = _json_string
    return (
        f"[1,{text(claims.quote_id)},{text(claims.venue)},{text(claims.date)},"
        f"{text(claims.slot)},{_lines_json(claims.lines)},{claims.total},"
        f"{text(claims.plan_version)},{claims.expires_at}]"
    ).encode()


_json_string = json.encoder.encode_basestring_ascii


@lru_cache(maxsize=4096)
def _lines_json(lines: tuple[tuple[str, int, tuple[int, ...]], ...]) -> str:
    body = [[segment, quantity, list(units)] for segment, quantity, units in lines]
    return json.dumps(body, separators=(",", ":"))


class QuoteSigner:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise InvalidInput("at least one quote-signing key is needed", field="token_keys")
        self._keys = tuple(keys)
        # Keyed once; copying the keyed state is cheaper than keying for every quote.
        self._signing = hmac.new(self._keys[0], digestmod=hashlib.sha256)

    def sign(self, claims: TokenClaims) -> str:
        payload = canonical(claims)
        mac = self._signing.copy()
        mac.update(payload)
        return f"{_b64(payload)}.{_b64(mac.digest())}"

    def verify(self, token: str, *, now: int) -> TokenClaims:
        """The claims of a genuine, unexpired token; TokenRejected with the reason otherwise."""
        claims = self.verify_signature(token)
        check_fresh(claims, now=now)
        return claims

    def verify_signature(self, token: str) -> TokenClaims:
        """The claims of a genuine token, expired or not; TokenRejected otherwise."""
        try:
            payload_part, mac_part = token.split(".")
            payload, mac = _unb64(payload_part), _unb64(mac_part)
        except (ValueError, binascii.Error):
            raise TokenRejected("the quote token is malformed", field="token") from None
        if not any(
            hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).digest(), mac)
            for key in self._keys
        ):
            raise TokenRejected("the quote token's signature does not verify", field="token")
        return _claims_of(payload)


def check_fresh(claims: TokenClaims, *, now: int) -> None:
    if now >= claims.expires_at:
        raise TokenRejected("the quote has expired; ask for a new quote", field="token")


def _claims_of(payload: bytes) -> TokenClaims:
    # Only signed payloads reach here, so a shape error means a bug or a changed format.
    try:
        version, quote_id, venue, date, slot, lines, total, plan, expires = json.loads(payload)
        if version != 1:
            raise ValueError("unknown token version")
        return TokenClaims(
            quote_id=str(quote_id),
            venue=str(venue),
            date=str(date),
            slot=str(slot),
            lines=tuple((str(s), int(q), tuple(int(x) for x in u)) for s, q, u in lines),
            total=int(total),
            plan_version=str(plan),
            expires_at=int(expires),
        )
    except (ValueError, TypeError):
        raise TokenRejected("the quote token's payload is not understood", field="token") from None


def match_order(
    claims: TokenClaims, *, venue: str, date: str, slot: str, tickets: dict[str, int]
) -> None:
    """Refuse a sale whose order differs from what the token quoted, naming the difference."""
    for field, ordered, quoted in (
        ("venue", venue, claims.venue),
        ("date", date, claims.date),
        ("slot", slot, claims.slot),
    ):
        if ordered != quoted:
            raise TokenRejected(
                f"the token quoted {field} {quoted!r}, the order says {ordered!r}", field=field
            )
    ordered_tickets = {s: q for s, q in tickets.items() if q}
    if ordered_tickets != claims.tickets:
        raise TokenRejected(
            f"the token quoted tickets {claims.tickets}, the order has {ordered_tickets}",
            field="tickets",
        )
