"""The solvers print nothing: a log would end up in the command line's and benchmarks' output."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.solve import SOLVERS

ROOT = Path(__file__).resolve().parents[1]

# A tiny LP through solve_model, in a process of its own: HiGHS writes its banner from C++
# straight to file descriptor 1, where capsys would not see it.
SCRIPT = """
import sys
from optimizer.model import ModelBuilder
from optimizer.solve import solve_model

model = ModelBuilder("tiny", "maximise")
x = model.variable("x")
model.at_most("cap", [(x, 1.0)], 3.0)
model.objective([(x, 2.0)])
outcome = solve_model(model, sys.argv[1], time_limit=10)
assert outcome.is_optimal and outcome.objective == 6.0, outcome
"""


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_solve_prints_nothing(solver: str) -> None:
    if solver == "highs" and importlib.util.find_spec("highspy") is None:
        pytest.skip("highspy is not installed")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, solver],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "HiGHS" not in done.stdout and "Copyright" not in done.stdout
    assert done.stdout == ""
    assert done.stderr == ""
