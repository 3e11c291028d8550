"""The dependency arrows of DESIGN.md: pricing is pure, serving a quote never loads numpy, and
the LP in optimizer/ does not depend on the season simulator in optimizer/simulation/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_the_service_loads_no_numerical_stack() -> None:
    loaded = modules_loaded_by("import api.app")
    assert not {"numpy", "scipy", "statsmodels", "pulp", "pandas"} & loaded


def test_pricing_imports_no_io_or_numerical_package() -> None:
    loaded = modules_loaded_by("import pricing.quote, pricing.plan, pricing.token")
    assert not {"numpy", "redis", "fastapi", "starlette", "api"} & loaded


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, wherever the import sits (lazy ones in functions too), with
    relative imports resolved against the file's package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_lp_imports_nothing_from_the_simulator() -> None:
    simulation = ROOT / "optimizer" / "simulation"
    lp_files = [p for p in (ROOT / "optimizer").rglob("*.py") if simulation not in p.parents]
    assert len(lp_files) > 10
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m
            for m in imported_modules(path)
            if m == "optimizer.simulation" or m.startswith("optimizer.simulation.")
        )
        for path in lp_files
    }
    assert {path: found for path, found in offenders.items() if found} == {}
