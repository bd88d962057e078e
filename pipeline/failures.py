"""One-line failure messages that say what failed and where, without quoting data.

An operating-system error carries an errno, its text and often a path: none of
them comes from a note, so they are safe to print, and they are what the
person on call needs ("No space left on device" beats "RuntimeError"). Other
exceptions are named by type only, since their messages can quote input text.
Beam wraps a worker's exception in a RuntimeError of its own; the original is
found on the cause and context chain.
"""

from __future__ import annotations

import errno
import os
import shutil

# What to do about the OS errors a batch job meets, by errno.
_ACTIONS = {
    errno.ENOSPC: "the disk is full: free space there or write the output to another disk",
    errno.EDQUOT: "the user's disk quota is used up: raise it or write elsewhere",
    errno.EACCES: "permission denied: the job's user cannot write there; check owner and mode",
    errno.EPERM: "operation not permitted: check the owner, mode and mount options",
    errno.EROFS: "the file system is mounted read-only",
    errno.ENOENT: "a file or parent directory is missing (removed while the run was going?)",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EISDIR: "the path is a directory where a file was expected",
    errno.EFBIG: "a file grew past the size limit for this process (ulimit -f)",
    errno.EMFILE: "too many open files for this process: raise ulimit -n",
    errno.EIO: "an I/O error from the device: check the disk or the network mount",
}


def find_os_error(exc: BaseException) -> OSError | None:
    """The first OSError with an errno on ``exc``'s cause and context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            return current
        current = current.__cause__ or current.__context__
    return None


def describe_os_error(error: OSError, *, near: str | None = None) -> str:
    """``strerror [ECODE] at PATH: what to do``; ``near`` names where the job was
    writing when the error carries no path of its own (pyarrow's do not)."""
    code = errno.errorcode.get(error.errno or 0, str(error.errno))
    text = error.strerror or os.strerror(error.errno or 0)
    if error.filename is not None:
        where = f" at {os.fsdecode(error.filename)}"
        if error.filename2 is not None:
            where += f" -> {os.fsdecode(error.filename2)}"
    elif near is not None:
        where = f" while writing under {near}"
    else:
        where = ""
    message = f"{text} [{code}]{where}"
    action = _ACTIONS.get(error.errno or 0)
    if action:
        message += f": {action}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT) and near is not None:
        free = _free_bytes(near)
        if free is not None:
            message += f" ({free / 2**20:,.0f} MiB free there now)"
    return message


class DescribedFailure(RuntimeError):
    """A run failure whose message deidcode wrote itself, from IDs, paths, counts and
    error codes only, so it can be printed as it is."""


def describe_failure(exc: BaseException, *, near: str | None = None) -> str:
    """What the CLI prints for a failure it has no specific message for."""
    if isinstance(exc, DescribedFailure):
        return str(exc)
    os_error = find_os_error(exc)
    if os_error is not None:
        return describe_os_error(os_error, near=near)
    # Library messages can quote input data, so only the type is shown.
    return f"{type(exc).__name__} (re-run with --debug for a traceback; it may quote input data)"


def existing_ancestor(path: str) -> str:
    """``path`` itself if it exists, else its nearest ancestor that does: where a
    directory about to be created would go, and whose disk it would fill."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    return probe


def _free_bytes(path: str) -> int | None:
    try:
        return shutil.disk_usage(existing_ancestor(path)).free
    except OSError:
        return None
