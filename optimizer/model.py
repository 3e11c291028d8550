"""A thin, named layer over PuLP: every variable and row has a name a person can read.

Rows are built from (variable, coefficient) pairs, which PuLP turns into expressions far faster
than `lpSum` over comprehensions. Lower-bound rows are the only ones that can make our models
infeasible (every upper-bound row holds at zero sales), so the builder can make them elastic:
each gets a named shortfall variable, and minimising total shortfall tells which rows cannot hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import pulp

Terms = list[tuple[pulp.LpVariable, float]]
Sense = Literal["maximise", "minimise"]

SHORTFALL_PREFIX = "shortfall_"


class ModelBuilder:
    def __init__(self, name: str, sense: Sense, *, elastic: bool = False) -> None:
        self.problem = pulp.LpProblem(
            name, pulp.LpMaximize if sense == "maximise" else pulp.LpMinimize
        )
        self.sense: Sense = sense
        self.elastic = elastic
        self.lower_bound_rows: list[str] = []
        self._shortfalls: Terms = []
        self._objective: Terms = []
        if elastic:
            # Feasibility is all that matters to a diagnosis, so the objective is total shortfall.
            self.problem.sense = pulp.LpMinimize
            self.sense = "minimise"

    def variable(
        self, name: str, low: float | None = 0.0, up: float | None = None
    ) -> pulp.LpVariable:
        return self.problem.add_variable(name, low, up)

    def at_most(self, name: str, terms: Terms, rhs: float) -> None:
        self._add(name, terms, pulp.LpConstraintLE, rhs)

    def equal(self, name: str, terms: Terms, rhs: float) -> None:
        self._add(name, terms, pulp.LpConstraintEQ, rhs)

    def at_least(self, name: str, terms: Terms, rhs: float) -> None:
        self.lower_bound_rows.append(name)
        if self.elastic:
            shortfall = self.variable(SHORTFALL_PREFIX + name)
            self._shortfalls.append((shortfall, 1.0))
            terms = [*terms, (shortfall, 1.0)]
        self._add(name, terms, pulp.LpConstraintGE, rhs)

    def objective(self, terms: Iterable[tuple[pulp.LpVariable, float]]) -> None:
        self._objective = list(terms)

    def finished(self) -> pulp.LpProblem:
        """The problem with its objective set: total shortfall when elastic, else the one given."""
        chosen = self._shortfalls if self.elastic else self._objective
        self.problem.setObjective(pulp.LpAffineExpression(chosen))
        return self.problem

    def _add(self, name: str, terms: Terms, sense: int, rhs: float) -> None:
        row = pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, name, rhs)
        self.problem.addConstraint(row)
