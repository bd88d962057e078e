"""deidcode: de-identify clinical text and suggest diagnosis codes, on Apache Beam."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("deidcode")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
