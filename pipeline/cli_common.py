"""What every deidcode command shares: the user-facing error and the Beam-flag option."""

from __future__ import annotations

import argparse


class CliError(Exception):
    """A user-facing error: printed as one line, with no traceback."""


def add_beam_flag_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--allow-unknown-beam-flags",
        action="store_true",
        help="pass flags that neither deidcode nor Apache Beam declares on to Beam "
        "(by default they are an error, so that a typo such as --runer=... cannot run locally)",
    )
