"""API keys with roles. Keys are kept only as SHA-256 digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from pricing.errors import Forbidden, InvalidInput, Unauthorized

Role = Literal["checkout", "manager"]
ROLES: tuple[Role, ...] = ("checkout", "manager")
# A manager may do everything a checkout may.
GRANTS: dict[Role, frozenset[Role]] = {
    "checkout": frozenset({"checkout"}),
    "manager": frozenset({"checkout", "manager"}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    key_id: str  # a short digest prefix: names the key in audits without revealing it

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.key_id}"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyRing:
    def __init__(self, spec: str) -> None:
        self._entries: list[tuple[bytes, Principal]] = []
        for n, item in enumerate(part.strip() for part in spec.split(",")):
            if not item:
                continue
            role, _, key = item.partition(":")
            if role not in ROLES or not key:
                raise InvalidInput(
                    f"api_keys entry {n + 1} must be 'checkout:KEY' or 'manager:KEY'",
                    field="api_keys",
                )
            digest = _digest(key)
            self._entries.append((digest, Principal(role, digest.hex()[:8])))
        if not self._entries:
            raise InvalidInput("no API keys are configured", field="api_keys")

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("send the API key as 'Authorization: Bearer KEY'")
        digest = _digest(authorization[7:].strip())
        found: Principal | None = None
        # Compare against every entry so the time taken does not depend on which one matches.
        for known, principal in self._entries:
            if hmac.compare_digest(known, digest):
                found = principal
        if found is None:
            raise Unauthorized("the API key is not valid")
        return found

    def authorize(self, authorization: str | None, role: Role) -> Principal:
        return require(self.authenticate(authorization), role)


def require(principal: Principal, role: Role) -> Principal:
    """The principal, if its key's role grants `role`; 403 otherwise."""
    if role not in GRANTS[principal.role]:
        raise Forbidden(f"this needs the {role} role; the key has {principal.role}")
    return principal
