"""Registering classes under stable names, as the YAML config refers to them."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TypeVar

T = TypeVar("T", bound=type)


def name_registrar(
    registry: MutableMapping[str, T], kind: str
) -> Callable[[str], Callable[[T], T]]:
    """A class decorator factory that records a class in ``registry`` under ``name``,
    sets its ``name`` attribute, and refuses a second class under a taken name
    (a plugin silently replacing a built-in would change what a config means)."""

    def register(name: str) -> Callable[[T], T]:
        def decorate(cls: T) -> T:
            if name in registry and registry[name] is not cls:
                raise ValueError(f"{kind} name {name!r} is already registered")
            cls.name = name  # type: ignore[attr-defined]
            registry[name] = cls
            return cls

        return decorate

    return register
