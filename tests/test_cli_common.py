"""What every command shares: a closed pipe ends it quietly, an OS error names what it can."""

from __future__ import annotations

import argparse
import subprocess
import sys

from api.cli_common import EXIT_BAD_INPUT, EXIT_PIPE_CLOSED, guarded

CHATTY = (
    "import sys\n"
    "from api.cli_common import guarded\n"
    "def command(args):\n"
    "    for _ in range(200_000):\n"
    "        print('fold 1/4: model WAPE 0.105')\n"
    "    return 0\n"
    "sys.exit(guarded(command)(None))\n"
)


def test_a_reader_that_stops_reading_ends_the_command_quietly() -> None:
    """`yieldgate backtest ... | head`: no 'Broken pipe' line, no traceback, status 141."""
    with subprocess.Popen(
        [sys.executable, "-c", CHATTY], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        assert child.stdout.read(100).startswith(b"fold 1/4")
        child.stdout.close()
        stderr = child.stderr.read()
        assert child.wait(timeout=60) == EXIT_PIPE_CLOSED
    assert stderr == b""


def test_an_os_error_without_a_file_name_says_what_failed_not_none(capsys) -> None:  # type: ignore[no-untyped-def]
    def command(args: argparse.Namespace) -> int:
        raise OSError(28, "No space left on device")

    assert guarded(command)(argparse.Namespace()) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "yieldgate: No space left on device\n"
