"""Consistent, shape-preserving surrogates: a keyed bijection on tokens, per patient.

A span is split into alphanumeric tokens; separators stay. Each token is
normalised (accents stripped, lower-cased) and mapped by a function that is,
for one patient key, a bijection with no fixed points:

* a token found in a name pool (female first names, male first names,
  surnames) maps to another token of the *same* pool: the successor of the
  token in a keyed random order of that pool, computed with a small Feistel
  permutation. "Smith" becomes another surname, "Mary" another female name;
* any other token is enciphered character by character: a vowel becomes a
  vowel, a consonant a consonant, a digit a digit, each moved by a keyed
  non-zero shift that depends on the token's earlier characters. The result
  keeps the token's length and shape (``MRN 12-345`` stays two letters' worth
  of shape, a phone keeps its punctuation). Where the cipher lands on a pool
  name it is applied again (cycle walking), so cipher outputs never collide
  with pool outputs.

Hence, for one patient: the same normalised value always gets the same
surrogate (in any note, run or machine with the same key), two different
values never get the same one, and no token is ever left as it was. The case
of the original is re-applied, so "Smith" and "SMITH" become "Jones" and "JONES".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from transforms.core.text import fold

NAME_POOLS_FILE = Path(__file__).parent / "data" / "name_pools.json"
_TOKEN = re.compile(r"[^\W_]+")
_VOWELS = "aeiou"
_CONSONANTS = "bcdfghjklmnpqrstvwxyz"
_DIGITS = "0123456789"
_FEISTEL_ROUNDS = 4


@dataclass(frozen=True)
class NamePools:
    """Disjoint pools of realistic tokens; every token is in at most one pool."""

    pools: tuple[tuple[str, ...], ...]
    # token -> (pool number, position in that pool)
    index: dict[str, tuple[int, int]]

    @classmethod
    def from_lists(cls, lists: list[list[str]]) -> NamePools:
        index: dict[str, tuple[int, int]] = {}
        pools = []
        for number, tokens in enumerate(lists):
            if len(tokens) < 2:
                raise ValueError(f"name pool {number} needs at least two tokens")
            for position, token in enumerate(tokens):
                if token in index or fold(token) != token:
                    raise ValueError(f"name pool token {token!r} is repeated or not normalised")
                index[token] = (number, position)
            pools.append(tuple(tokens))
        return cls(tuple(pools), index)


@lru_cache(maxsize=1)
def bundled_name_pools() -> NamePools:
    document = json.loads(NAME_POOLS_FILE.read_text(encoding="utf-8"))
    pools = document["pools"]
    return NamePools.from_lists([pools["female_first"], pools["male_first"], pools["surname"]])


class KeyedPermutation:
    """A keyed permutation of ``range(size)``: a Feistel network with cycle walking."""

    def __init__(self, key: bytes, size: int) -> None:
        if size < 1:
            raise ValueError("size must be positive")
        self._key = key
        self.size = size
        bits = max(2, (size - 1).bit_length())
        self._half = (bits + 1) // 2
        self._mask = (1 << self._half) - 1

    def _round(self, number: int, value: int) -> int:
        message = bytes([number]) + value.to_bytes(4, "big")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") & self._mask

    def _encrypt(self, value: int) -> int:
        left, right = value >> self._half, value & self._mask
        for number in range(_FEISTEL_ROUNDS):
            left, right = right, left ^ self._round(number, right)
        return (left << self._half) | right

    def _decrypt(self, value: int) -> int:
        left, right = value >> self._half, value & self._mask
        for number in reversed(range(_FEISTEL_ROUNDS)):
            left, right = right ^ self._round(number, left), left
        return (left << self._half) | right

    def forward(self, value: int) -> int:
        # Cycle walking: the Feistel domain is a power of 4 >= size; re-encrypt
        # until the value falls back in range. This stays a bijection on range(size).
        value = self._encrypt(value)
        while value >= self.size:
            value = self._encrypt(value)
        return value

    def inverse(self, value: int) -> int:
        value = self._decrypt(value)
        while value >= self.size:
            value = self._decrypt(value)
        return value

    def successor(self, value: int) -> int:
        """The next element in the keyed order: a single cycle, so never ``value`` itself."""
        return self.inverse((self.forward(value) + 1) % self.size)


@lru_cache(maxsize=4096)
def _shift_alphabet(ch: str) -> str:
    """The characters ``ch`` may become: its class, so that the cipher is a bijection.

    ASCII vowels, consonants and digits are classes of their own. Any other
    letter or digit moves among the characters of its 32-code-point block with
    the same kind (lower-case letter, upper-case letter, other letter, digit).
    """
    for alphabet in (_VOWELS, _CONSONANTS, _DIGITS):
        if ch in alphabet:
            return alphabet
    code = ord(ch)
    base = code - code % 32
    kind = _kind(ch)
    block = "".join(c for c in map(chr, range(base, base + 32)) if _kind(c) == kind)
    # A character alone of its kind in its block falls back to the ASCII
    # consonants; the mapping is then no longer invertible for it alone.
    return block if len(block) >= 2 else _CONSONANTS + ch


def _kind(ch: str) -> str:
    if ch.isdigit():
        return "digit"
    if not ch.isalpha():
        return "other"
    return "lower" if ch.islower() else "upper" if ch.isupper() else "letter"


def _keystream(key: bytes, prefix: str, position: int) -> int:
    digest = hmac.new(key, f"{position}|{prefix}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def encipher_token(key: bytes, token: str) -> str:
    """Shape-preserving, keyed, invertible; every character changes.

    Each character moves within its class (see ``_shift_alphabet``) by a
    non-zero shift drawn from the key and the characters before it.
    """
    out = []
    for position, ch in enumerate(token):
        alphabet = _shift_alphabet(ch)
        shift = 1 + _keystream(key, token[:position], position) % (len(alphabet) - 1)
        out.append(alphabet[(alphabet.index(ch) + shift) % len(alphabet)])
    return "".join(out)


def surrogate_token(key: bytes, token: str, pools: NamePools) -> str:
    """The surrogate of one normalised token under a patient's key."""
    found = pools.index.get(token)
    if found is not None:
        number, position = found
        pool = pools.pools[number]
        permutation = KeyedPermutation(
            hmac.new(key, f"pool{number}".encode(), "sha256").digest(), len(pool)
        )
        return pool[permutation.successor(position)]
    value = encipher_token(key, token)
    # Cycle walking keeps cipher outputs out of the pools, where they could
    # meet the surrogate of a pool name. It ends: ``token`` itself is not in a pool.
    while value in pools.index:
        value = encipher_token(key, value)
    return value


def match_case(original: str, replacement: str) -> str:
    """Give ``replacement`` the capitalisation pattern of ``original``."""
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original.islower():
        return replacement.lower()
    if len(original) == len(replacement):
        return "".join(
            r.upper() if o.isupper() else r.lower()
            for o, r in zip(original, replacement, strict=True)
        )
    return replacement[:1].upper() + replacement[1:].lower()


def tokens(text: str) -> Iterator[re.Match[str]]:
    return _TOKEN.finditer(text)


def surrogate_text(
    key: bytes, text: str, pools: NamePools, *, keep_words: frozenset[str] = frozenset()
) -> str:
    """Replace every alphanumeric token of ``text`` but ``keep_words``; separators stay."""
    pieces = []
    cursor = 0
    for match in tokens(text):
        original = match.group()
        normalised = fold(original)
        pieces.append(text[cursor : match.start()])
        if normalised in keep_words:
            pieces.append(original)
        else:
            pieces.append(match_case(original, surrogate_token(key, normalised, pools)))
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces)
