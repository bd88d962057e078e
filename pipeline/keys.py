"""Loading the run key from an environment variable or a key file, never a default."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class KeyConfigError(ValueError):
    """The key is missing or unusable; the message says where deidcode looked."""


def load_key(*, key_file: str | None, env_var: str, min_chars: int) -> bytes:
    """Return the key bytes from ``key_file`` if given, else from ``env_var``.

    The key itself never appears in a message: only where it was looked for.
    """
    if key_file:
        path = Path(key_file)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeyConfigError(f"key file {path} does not exist") from None
        except OSError as exc:
            raise KeyConfigError(f"key file {path} cannot be read ({type(exc).__name__})") from None
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Warn-worthy rather than fatal would hide a leak; refuse instead.
            raise KeyConfigError(
                f"key file {path} is readable by group or others; run: chmod 600 {path}"
            )
        key = raw.strip()
        source = f"key file {path}"
    else:
        value = os.environ.get(env_var)
        if value is None:
            raise KeyConfigError(
                f"no key: set the environment variable {env_var} or pass --key-file "
                f"(see runbooks/key-management.md)"
            )
        key = value.strip().encode("utf-8")
        source = f"environment variable {env_var}"
    if len(key) < min_chars:
        raise KeyConfigError(
            f"the key in {source} is too short: at least {min_chars} characters are required "
            f"(generate one with: openssl rand -hex 32)"
        )
    return key
