"""Build ``name_pools.json``, the realistic values the surrogate operator draws from.

A development script, not a runtime dependency: it reads the person-name lists
of the Faker package (MIT licence, github.com/joke2k/faker) for several
Latin-script locales and writes them ASCII-folded, lower-cased, de-duplicated
and sorted, so the file is the same on every machine::

    python -m transforms.redaction.data.build_name_pools

Each token belongs to exactly one pool (female first names, then male first
names, then surnames), which keeps the surrogate mapping a bijection.
"""

from __future__ import annotations

import importlib
import json
import sys
import unicodedata
from pathlib import Path

LOCALES = (
    "en_US",
    "en_GB",
    "en_IN",
    "es_ES",
    "es_MX",
    "de_DE",
    "fr_FR",
    "it_IT",
    "nl_NL",
    "pt_BR",
)
POOLS = ("female_first", "male_first", "surname")
OUTPUT = Path(__file__).with_name("name_pools.json")


def fold(token: str) -> str:
    """Lower-case and strip accents: the normal form names are looked up in."""
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _usable(token: str) -> bool:
    return len(token) >= 2 and token.isascii() and token.isalpha()


def build_pools() -> dict[str, list[str]]:
    lists: dict[str, set[str]] = {pool: set() for pool in POOLS}
    attributes = {
        "female_first": "first_names_female",
        "male_first": "first_names_male",
        "surname": "last_names",
    }
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for pool, attribute in attributes.items():
            for name in getattr(provider, attribute, ()):
                token = fold(name)
                if _usable(token):
                    lists[pool].add(token)
    taken: set[str] = set()
    pools: dict[str, list[str]] = {}
    for pool in POOLS:
        pools[pool] = sorted(lists[pool] - taken)
        taken |= lists[pool]
    return pools


def main() -> int:
    pools = build_pools()
    document = {
        "source": "Faker person providers (MIT licence), locales " + ", ".join(LOCALES),
        "pools": pools,
    }
    OUTPUT.write_text(json.dumps(document, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    sizes = ", ".join(f"{pool} {len(tokens)}" for pool, tokens in pools.items())
    print(f"wrote {OUTPUT}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
