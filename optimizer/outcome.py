"""Solver outcomes as typed values: callers branch on a status, never catch solver exceptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass(frozen=True)
class SolveOutcome:
    """What one solve gave back.

    `duals` are the marginal objective per unit of each named constraint's right-hand side, in
    the model's own sense (for a maximisation, a binding capacity row has a positive dual) and
    whichever solver ran. `infeasible_constraints` names the lower-bound rows that could not hold.
    """

    status: SolveStatus
    objective: float | None = None
    values: Mapping[str, float] = field(default_factory=dict)
    duals: Mapping[str, float] = field(default_factory=dict)
    infeasible_constraints: tuple[str, ...] = ()
    message: str = ""
    seconds: float = 0.0

    @property
    def is_optimal(self) -> bool:
        return self.status is SolveStatus.OPTIMAL

    def reason(self) -> str:
        """One line for a person: what went wrong, naming the constraint where known."""
        if self.status is SolveStatus.OPTIMAL:
            return "optimal"
        if self.status is SolveStatus.INFEASIBLE and self.infeasible_constraints:
            return f"infeasible: {', '.join(self.infeasible_constraints)} cannot hold"
        return f"{self.status.value}: {self.message}" if self.message else self.status.value
