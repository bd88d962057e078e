"""Run a command with its stderr on a pseudo-terminal, as for a person at a shell."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_on_terminal(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 300
) -> tuple[int, str, str]:
    """(exit status, what was drawn on the terminal, stdout)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=follower, text=True
    )
    os.close(follower)
    drawn = b""
    while select.select([leader], [], [], timeout)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    stdout = process.stdout.read() if process.stdout else ""
    process.wait(timeout=timeout)
    os.close(leader)
    return process.returncode, drawn.decode("utf-8", "replace"), stdout
