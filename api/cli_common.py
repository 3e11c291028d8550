"""What every `yieldgate` command shares: one-line failures, progress lines, exit statuses."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from pricing.errors import InvalidInput, YieldgateError

EXIT_BAD_INPUT = 2
EXIT_NOT_SOLVED = 1
EXIT_PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a command a closed pipe stopped

Command = Callable[[argparse.Namespace], int]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"yieldgate: {message}", file=sys.stderr)
    return code


def read_text(path: str, field: str) -> str:
    """A file given on the command line, as text (a byte-order mark dropped); InvalidInput
    naming the file when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field=field) from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})", field=field) from None


def say(message: str) -> None:
    print(message, flush=True)


def guarded(command: Command) -> Command:
    """Bad input ends the command with one line on stderr and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except YieldgateError as exc:
            return fail(exc.detail)
        except BrokenPipeError:
            # The reader went away (`yieldgate backtest ... | head`): nothing is wrong and there
            # is nowhere left to say anything; the exit flush must not fail on stdout either.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_PIPE_CLOSED
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            return fail(f"{where}{exc.strerror or exc}")

    return run
