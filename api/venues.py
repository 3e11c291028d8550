"""The venues this service prices: every *.toml file of the configured directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pricing.errors import InvalidInput, NotFound
from pricing.venue import Venue, parse_venue_toml


class VenueRegistry:
    def __init__(self, venues: list[Venue]) -> None:
        self._venues: dict[str, Venue] = {}
        for venue in venues:
            if venue.id in self._venues:
                raise InvalidInput(f"two venue files share the id {venue.id!r}", field="id")
            self._venues[venue.id] = venue

    @classmethod
    def from_directory(cls, directory: Path) -> VenueRegistry:
        if not directory.is_dir():
            raise InvalidInput(f"venues directory {directory} does not exist", field="venues_dir")
        files = sorted(directory.glob("*.toml"))
        if not files:
            raise InvalidInput(f"no *.toml venue files in {directory}", field="venues_dir")
        return cls([parse_venue_toml(f.read_text(encoding="utf-8"), source=str(f)) for f in files])

    def get(self, venue_id: str) -> Venue:
        venue = self._venues.get(venue_id)
        if venue is None:
            raise NotFound(f"unknown venue {venue_id!r}", field="venue")
        return venue

    def __iter__(self) -> Iterator[Venue]:
        return iter(self._venues.values())
