"""What every `yieldgate` command shares: one-line failures, progress lines, exit statuses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from pricing.errors import YieldgateError

EXIT_BAD_INPUT = 2
EXIT_NOT_SOLVED = 1

Command = Callable[[argparse.Namespace], int]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"yieldgate: {message}", file=sys.stderr)
    return code


def say(message: str) -> None:
    print(message, flush=True)


def guarded(command: Command) -> Command:
    """Bad input ends the command with one line on stderr and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except YieldgateError as exc:
            return fail(exc.detail)
        except OSError as exc:
            return fail(f"{exc.filename}: {exc.strerror}")

    return run
