"""A real headless Chromium (Debian's ``chromium``) for tests of the pages deidcode writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium is not installed: apt-get install chromium (the README's test command does)"
        )
    return path


def screenshot(page: Path, png: Path, *, width: int = 1280, height: int = 1700) -> Path:
    """Render a local page headless and save what a reader would see as a PNG."""
    subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",  # the tests run as root in CI
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png


def dump_dom(page: Path) -> str:
    """The page's DOM after a real browser has parsed and laid it out."""
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         page.resolve().as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    return result.stdout
