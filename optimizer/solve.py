"""Run a named model through CBC or HiGHS and hand back a typed outcome, never a solver exception.

CBC (the binary bundled with PuLP) is the default; HiGHS goes through PuLP's in-process highspy
API, because the highspy wheel ships no `highs` executable for `HiGHS_CMD`. Both stay silent: a
solver's log on stdout would end up in the command line's and the benchmarks' output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

import pulp

from optimizer.model import SHORTFALL_PREFIX, ModelBuilder
from optimizer.outcome import SolveOutcome, SolveStatus

SolverName = Literal["cbc", "highs"]
SOLVERS: tuple[SolverName, ...] = ("cbc", "highs")

# A lower-bound row whose shortfall is below this is met up to solver tolerance.
SHORTFALL_TOLERANCE = 1e-6


@cache
def _highs_without_banner() -> type[Any]:
    """highspy.Highs with its log off before the first call that would print the banner.

    `msg=False` makes PuLP turn HiGHS's output off only after `highspy.Highs()` is built, and
    building it already prints "Running HiGHS ... Copyright ..." from C++ to the process's
    stdout: `Highs.__init__` registers its callbacks, the first HiGHS call, which writes the
    banner unless output_flag is already false. (Imported here: highspy is optional to PuLP.)
    """
    import highspy

    class HighsWithoutBanner(highspy.Highs):
        def enableCallbacks(self) -> None:
            self.setOptionValue("output_flag", False)
            super().enableCallbacks()  # type: ignore[no-untyped-call]

    return HighsWithoutBanner


class _PulpHighsWithoutBanner(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's highspy solver, built on HighsWithoutBanner; takes only msg=False and timeLimit."""

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:
        lp.solverModel = _highs_without_banner()()
        lp.solverModel.setOptionValue("output_flag", False)
        if self.timeLimit is not None:
            lp.solverModel.setOptionValue("time_limit", float(self.timeLimit))


def _solver(name: SolverName, time_limit: float | None) -> pulp.LpSolver:
    if name == "highs":
        return _PulpHighsWithoutBanner(msg=False, timeLimit=time_limit)
    # COIN_CMD on PuLP's own CBC binary: PULP_CBC_CMD is deprecated (a warning on every use).
    return pulp.COIN_CMD(path=pulp.PULP_CBC_CMD.pulp_cbc_path, msg=False, timeLimit=time_limit)


def _status_of(problem: pulp.LpProblem) -> SolveStatus:
    if problem.status == pulp.LpStatusOptimal:
        # Both solvers report a run stopped early with a solution in hand as "integer feasible".
        if problem.sol_status == pulp.LpSolutionOptimal:
            return SolveStatus.OPTIMAL
        return SolveStatus.TIME_LIMIT
    if problem.status == pulp.LpStatusInfeasible:
        return SolveStatus.INFEASIBLE
    if problem.status == pulp.LpStatusNotSolved:
        return SolveStatus.TIME_LIMIT
    return SolveStatus.ERROR


def solve_model(
    model: ModelBuilder, solver: SolverName = "cbc", time_limit: float | None = None
) -> SolveOutcome:
    """Solve once. Values and duals are filled only for an optimal solve."""
    problem = model.finished()
    started = time.perf_counter()
    try:
        problem.solve(_solver(solver, time_limit))
    except (pulp.PulpSolverError, OSError) as exc:
        return SolveOutcome(
            SolveStatus.ERROR, message=f"{solver}: {exc}", seconds=time.perf_counter() - started
        )
    seconds = time.perf_counter() - started
    status = _status_of(problem)
    if status is SolveStatus.TIME_LIMIT and time_limit is not None:
        return SolveOutcome(status, message=f"no optimum within {time_limit:g} s", seconds=seconds)
    if status is not SolveStatus.OPTIMAL:
        message = f"{solver} reports {pulp.LpStatus.get(problem.status, problem.status)}"
        return SolveOutcome(status, message=message, seconds=seconds)
    # PuLP passes HiGHS a minimisation of the negated objective and hands back its duals as
    # they are; CBC's are already in the model's sense.
    dual_sign = -1.0 if solver == "highs" and model.sense == "maximise" else 1.0
    return SolveOutcome(
        SolveStatus.OPTIMAL,
        objective=float(problem.objective.value() or 0.0),
        values={v.name: float(v.varValue or 0.0) for v in problem.variables()},
        duals={row.name: dual_sign * float(row.pi or 0.0) for row in problem.constraints()},
        seconds=seconds,
    )


def solve_or_explain(
    build: Callable[[bool], ModelBuilder],
    solver: SolverName = "cbc",
    time_limit: float | None = None,
) -> SolveOutcome:
    """Solve `build(False)`; if infeasible, solve the elastic `build(True)` to name the culprits.

    The elastic model relaxes every lower-bound row by a shortfall variable and minimises their
    sum, so the rows left short are ones that cannot hold together with the rest.
    """
    outcome = solve_model(build(False), solver, time_limit)
    if outcome.status is not SolveStatus.INFEASIBLE:
        return outcome
    diagnosis = solve_model(build(True), solver, time_limit)
    if not diagnosis.is_optimal:
        return outcome
    short = tuple(
        name[len(SHORTFALL_PREFIX) :]
        for name, value in diagnosis.values.items()
        if name.startswith(SHORTFALL_PREFIX) and value > SHORTFALL_TOLERANCE
    )
    if not short:
        return outcome
    shortfall = sum(diagnosis.values[SHORTFALL_PREFIX + name] for name in short)
    return SolveOutcome(
        SolveStatus.INFEASIBLE,
        infeasible_constraints=short,
        message=f"{', '.join(short)} short by {shortfall:.6g} at best",
        seconds=outcome.seconds + diagnosis.seconds,
    )
