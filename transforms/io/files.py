"""Every file deidcode reads or writes goes through here, onto Beam's ``FileSystems``:
local paths, ``s3://``, ``gs://``, ``hdfs://`` and ``azfs://`` alike.

Object stores have no directories, so a "directory" is a prefix. A file is
written whole before anyone can see it (``write_file``): locally under a
temporary name renamed into place, in an object store by one upload, which
is atomic there; a retried bundle writes the same bytes again. Local paths
keep the operating system's directory operations where they are cheaper and
atomic.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import IO, Any

from apache_beam.io.filesystem import BeamIOError
from apache_beam.io.filesystems import FileSystems

TEMP_MARKER = ".tmp-"


def is_remote(path: str) -> bool:
    """A URL with a scheme (``s3://``, ``gs://``); plain paths are local."""
    scheme = FileSystems.get_scheme(path)
    if scheme == "s3":
        share_s3_session()
    return scheme not in (None, "file")


_S3_SESSION: list[Any] = []
_S3_LOCK = threading.Lock()


def share_s3_session() -> None:
    """Make Beam's S3 filesystem build its clients from one boto3 session.

    Beam opens a new boto3 session for every file operation, and each loads
    botocore's JSON service models again: about half a second per call, 100 s
    of a 50-note run. Clients made from one session share its loaded models
    (and boto3 clients are thread-safe); a lock guards client creation, which
    a session does not make thread-safe itself."""
    try:
        from apache_beam.io.aws.clients.s3 import boto3_client
    except ImportError:  # boto3 missing: Beam says so on first use
        return
    real = boto3_client.boto3
    if real is None or isinstance(real, SimpleNamespace):  # missing, or shared already
        return

    class _Session:
        def client(self, *args, **kwargs):
            with _S3_LOCK:
                if not _S3_SESSION:
                    _S3_SESSION.append(real.session.Session())
                return _S3_SESSION[0].client(*args, **kwargs)

    boto3_client.boto3 = SimpleNamespace(session=SimpleNamespace(Session=_Session))


def has_filesystem(path: str) -> bool:
    """Whether Beam has a filesystem for the path's scheme (``s3`` yes, ``postgresql`` no)."""
    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        return False
    return True


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts) if is_remote(base) else os.path.join(base, *parts)


def absolute(path: str) -> str:
    """A local path made absolute; a URL as it is (``os.path.abspath`` would turn
    ``s3://bucket/run`` into a local folder named ``s3:``)."""
    return path if is_remote(path) else os.path.abspath(path)


def dirname(path: str) -> str:
    if is_remote(path):
        return path.rstrip("/").rsplit("/", 1)[0]
    return os.path.dirname(path)


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] if is_remote(path) else os.path.basename(path)


def open_read(path: str) -> IO[bytes]:
    """A binary, seekable stream of a file's bytes."""
    if not is_remote(path):
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    return FileSystems.open(path, compression_type="uncompressed")


def exists(path: str) -> bool:
    return FileSystems.exists(path) if is_remote(path) else os.path.exists(path)


def is_dir(path: str) -> bool:
    """A local directory, or a remote prefix that holds at least one file."""
    if not is_remote(path):
        return os.path.isdir(path)
    return bool(list_files(path))


def list_files(directory: str, suffix: str = "") -> list[str]:
    """The files directly or indirectly under ``directory``, sorted; none if it is absent."""
    if not is_remote(directory):
        if not os.path.isdir(directory):
            return []
        found = [
            os.path.join(root, name)
            for root, _, names in os.walk(directory)
            for name in names
            if name.endswith(suffix)
        ]
        return sorted(found)
    pattern = directory.rstrip("/") + "/**"
    try:
        matched = FileSystems.match([pattern])[0].metadata_list
    except BeamIOError:
        return []
    return sorted(m.path for m in matched if m.path.endswith(suffix))


def size(path: str) -> int:
    if not is_remote(path):
        return os.path.getsize(path)
    return FileSystems.match([path])[0].metadata_list[0].size_in_bytes


def match(pattern: str) -> list[str]:
    """The files a glob names, sorted."""
    try:
        matched = FileSystems.match([pattern])[0].metadata_list
    except BeamIOError:
        return []
    return sorted(m.path for m in matched)


def makedirs(directory: str, mode: int = 0o777) -> None:
    """A local directory (and its parents); nothing to do on an object store."""
    if not is_remote(directory):
        os.makedirs(directory, mode=mode, exist_ok=True)


def write_file(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write a whole file through ``write(stream)`` under a temporary name, then
    rename it to ``path``: readers see the complete file or none, and a retry that
    writes it again replaces it with the same bytes."""
    if not is_remote(path):
        temporary = f"{path}{TEMP_MARKER}{uuid.uuid4().hex[:12]}"
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        try:
            with open(temporary, "wb") as handle:
                write(handle)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        return
    # An object store's PUT is atomic already: the object appears whole when the
    # upload completes, or not at all, and a retry replaces it. (Each extra call
    # also costs Beam a new client, about half a second.)
    with FileSystems.create(path) as handle:
        write(handle)


def write_bytes(path: str, data: bytes) -> None:
    write_file(path, lambda handle: handle.write(data))


def read_bytes(path: str) -> bytes:
    with open_read(path) as handle:
        return handle.read()


def delete_file(path: str) -> None:
    """Remove one file; absent is fine."""
    if not is_remote(path):
        if os.path.exists(path):
            os.remove(path)
    elif FileSystems.exists(path):
        FileSystems.delete([path])


def delete_tree(directory: str) -> None:
    """Remove a directory or prefix and everything under it; absent is fine."""
    if not is_remote(directory):
        shutil.rmtree(directory, ignore_errors=True)
        return
    files = list_files(directory)
    if files:
        FileSystems.delete(files)


def move_tree(source: str, target: str) -> None:
    """Move everything under ``source`` to the same names under ``target``: one
    rename of the directory locally, a rename per object remotely."""
    if not is_remote(source):
        os.rename(source, target)
        return
    files = list_files(source)
    prefix = source.rstrip("/") + "/"
    FileSystems.rename(files, [target.rstrip("/") + "/" + f[len(prefix) :] for f in files])


@contextmanager
def text_reader(path: str, **options) -> Iterator[IO[str]]:
    """A text stream of a file (``open``'s ``encoding``, ``errors``, ``newline``)."""
    import io

    with open_read(path) as raw:
        text = io.TextIOWrapper(raw, **options)
        try:
            yield text
        finally:
            text.detach()


def directory_entries(directory: str) -> list[tuple[str, str, bool]]:
    """(name, path, is a file) for each entry directly in a directory, sorted by
    name; a remote prefix's sub-prefixes show once, as entries that are not files."""
    if not is_remote(directory):
        return [
            (name, os.path.abspath(os.path.join(directory, name)), os.path.isfile(path))
            for name in sorted(os.listdir(directory))
            for path in [os.path.join(directory, name)]
        ]
    prefix = directory.rstrip("/") + "/"
    entries: dict[str, tuple[str, str, bool]] = {}
    for path in list_files(directory):
        name, _, rest = path[len(prefix) :].partition("/")
        entries.setdefault(name, (name, prefix + name, not rest))
    return [entries[name] for name in sorted(entries)]


def glob_files(pattern: str) -> list[str]:
    """The files a glob matches, sorted (``**`` recurses)."""
    if not is_remote(pattern):
        import glob

        return sorted(
            os.path.abspath(p) for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)
        )
    return match(pattern)


def has_magic(pattern: str) -> bool:
    return any(char in pattern for char in "*?[")
