"""The dependency arrows of DESIGN.md: pricing is pure, and serving a quote never loads numpy."""

from __future__ import annotations

import subprocess
import sys


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
