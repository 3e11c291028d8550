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
from typing import Any

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
    body: dict[str, Any] = {
        "date": claims.date,
        "exp": claims.expires_at,
        "lines": [[s, q, list(u)] for s, q, u in claims.lines],
        "plan": claims.plan_version,
        "q": claims.quote_id,
        "slot": claims.slot,
        "total": claims.total,
        "v": 1,
        "venue": claims.venue,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class QuoteSigner:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise InvalidInput("at least one quote-signing key is needed", field="token_keys")
        self._keys = tuple(keys)

    def sign(self, claims: TokenClaims) -> str:
        payload = canonical(claims)
        mac = hmac.new(self._keys[0], payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(mac)}"

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
        body = json.loads(payload)
        if body.get("v") != 1:
            raise ValueError("unknown token version")
        return TokenClaims(
            quote_id=body["q"],
            venue=body["venue"],
            date=body["date"],
            slot=body["slot"],
            lines=tuple((s, int(q), tuple(int(x) for x in u)) for s, q, u in body["lines"]),
            total=int(body["total"]),
            plan_version=body["plan"],
            expires_at=int(body["exp"]),
        )
    except (ValueError, KeyError, TypeError):
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
