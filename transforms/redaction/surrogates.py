"""Consistent surrogates that carry nothing of the original's shape, per patient.

A value is split into alphanumeric tokens; separators stay. Each token is
normalised (accents stripped, lower-cased) and replaced in one of two ways:

* **Words** (letters only, in names, places and the like) take a realistic
  name from the bundled pools. Candidates come from a keyed permutation of a
  pool seeded by the word, so the first candidate is uniform over the pool
  whatever the word's length or letters. A pool word draws from its own pool
  (a female first name stays a female first name); any other word from the
  surnames. The first candidate that is neither the word itself nor taken by
  another of the patient's words wins, so for one patient two words never share
  a surrogate. Which words are taken is the patient's *surrogate ledger*
  (``assign_words``): reserved in a canonical order (by keyed digest) and kept
  across runs in the audit database, so the same word keeps its surrogate in
  every note, run and machine that shares the ledger and the key. Without
  state, no function of a finite pool can promise both (pigeonhole), which is
  why the ledger exists.
* **Formatted tokens** (any token with a digit, single letters such as initials,
  and every token of a type listed in ``format_types``, such as IDs and phone
  numbers) keep their format: each
  character stays a digit or a letter, and the token is moved by a keyed,
  single-cycle permutation of all tokens of that format. The result is uniform
  over the format's other tokens: its digits say nothing of the original's,
  and two values of one format never collide.

The case of the original is re-applied, so "Smith" and "SMITH" become
"Jones" and "JONES".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from transforms.core.text import fold

NAME_POOLS_FILE = Path(__file__).parent / "data" / "name_pools.json"
SURNAME_POOL = 2
_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = "0123456789"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_FEISTEL_ROUNDS = 4


class SurrogateError(ValueError):
    """A surrogate cannot be given. The message never holds the value."""


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
    """A keyed permutation of ``range(size)``: a Feistel network with cycle walking.

    Any size works: the round function draws as many HMAC blocks as a half needs.
    """

    def __init__(self, key: bytes, size: int) -> None:
        if size < 1:
            raise ValueError("size must be positive")
        self._key = key
        self.size = size
        bits = max(2, (size - 1).bit_length())
        self._half = (bits + 1) // 2
        self._mask = (1 << self._half) - 1
        self._value_bytes = (self._half + 7) // 8
        self._blocks = (self._half + 255) // 256

    def _round(self, number: int, value: int) -> int:
        message = bytes([number]) + value.to_bytes(self._value_bytes, "big")
        digest = b"".join(
            hmac.new(self._key, bytes([block]) + message, hashlib.sha256).digest()
            for block in range(self._blocks)
        )
        return int.from_bytes(digest, "big") & self._mask

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


def _sub_key(key: bytes, label: str) -> bytes:
    return hmac.new(key, label.encode("utf-8"), hashlib.sha256).digest()


# --- formatted tokens -------------------------------------------------------


def _format_alphabet(ch: str) -> str | None:
    if ch in _DIGITS:
        return _DIGITS
    if ch in _LETTERS:
        return _LETTERS
    return None


def format_surrogate(key: bytes, token: str) -> str | None:
    """Another token of the same format (digit for digit, letter for letter), drawn
    by a keyed single-cycle permutation of that format's tokens; None where a
    character is neither an ASCII digit nor a lower-case ASCII letter."""
    alphabets = [_format_alphabet(ch) for ch in token]
    if not alphabets or any(alphabet is None for alphabet in alphabets):
        return None
    size, index = 1, 0
    for ch, alphabet in zip(token, alphabets, strict=True):
        assert alphabet is not None
        size *= len(alphabet)
        index = index * len(alphabet) + alphabet.index(ch)
    signature = "".join("9" if alphabet is _DIGITS else "a" for alphabet in alphabets)
    value = KeyedPermutation(_sub_key(key, "format|" + signature), size).successor(index)
    out = []
    for alphabet in reversed(alphabets):
        assert alphabet is not None
        value, position = divmod(value, len(alphabet))
        out.append(alphabet[position])
    return "".join(reversed(out))


# --- words: the patient's surrogate ledger ----------------------------------


def word_digest(key: bytes, word: str) -> str:
    """The ledger's name for a word: a keyed digest, so the ledger holds no PHI."""
    return hmac.new(key, b"word|" + word.encode("utf-8"), hashlib.sha256).hexdigest()


def word_candidates(key: bytes, word: str, pools: NamePools) -> Iterator[str]:
    """Every pool name, once, in a keyed order seeded by the word: the word's own pool
    first (surnames for a word in none), then the others."""
    found = pools.index.get(word)
    home = found[0] if found is not None else SURNAME_POOL
    for number in [home] + [n for n in range(len(pools.pools)) if n != home]:
        pool = pools.pools[number]
        order = KeyedPermutation(_sub_key(key, f"candidates|{number}|{word}"), len(pool))
        for position in range(len(pool)):
            yield pool[order.forward(position)]


@dataclass(frozen=True)
class WordAssignment:
    """The surrogates of some of one patient's words, and which of them are new."""

    surrogates: Mapping[str, str]  # word -> surrogate
    new_entries: Mapping[str, str]  # word digest -> surrogate, not yet in the ledger


def assign_words(
    key: bytes, words: Iterable[str], pools: NamePools, ledger: Mapping[str, str]
) -> WordAssignment:
    """Give each normalised word of one patient its surrogate.

    ``ledger`` maps word digests to the surrogates already given to this patient
    (earlier runs). A word found there keeps its surrogate. The others are taken
    in order of their digest, so the result does not depend on the order words
    or notes arrive in; each takes its first candidate that is not the word itself
    and not already taken by this patient.
    """
    taken = set(ledger.values())
    surrogates: dict[str, str] = {}
    new_entries: dict[str, str] = {}
    digests = {word: word_digest(key, word) for word in set(words)}
    for word in sorted(digests, key=digests.__getitem__):
        digest = digests[word]
        if digest in ledger:
            surrogates[word] = ledger[digest]
            continue
        for candidate in word_candidates(key, word, pools):
            if candidate != word and candidate not in taken:
                break
        else:
            raise SurrogateError("every pool name is taken for this patient")
        taken.add(candidate)
        surrogates[word] = candidate
        new_entries[digest] = candidate
    return WordAssignment(surrogates, new_entries)


@dataclass(frozen=True)
class SurrogateBook:
    """What a surrogate operator needs for one patient: the patient's key (for
    formatted tokens) and the surrogates reserved for the patient's words."""

    key: bytes
    words: Mapping[str, str]

    @classmethod
    def for_words(cls, key: bytes, words: Iterable[str]) -> SurrogateBook:
        """A book for these words alone, without a ledger: a text or value on its own."""
        return cls(key, assign_words(key, words, bundled_name_pools(), {}).surrogates)

    def word(self, word: str) -> str:
        try:
            return self.words[word]
        except KeyError:
            # Fail closed: a word reserved nowhere would need a guess.
            raise SurrogateError(
                "a word was not reserved in the patient's surrogate book"
            ) from None


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


def _is_formatted(normalised: str, *, formatted: bool) -> bool:
    """Formatted tokens keep their format; words take names. A token with a digit, and
    a single letter (an initial, the O of O'Brien), is formatted, unless a character
    has no format class (then it is a word)."""
    if not (formatted or len(normalised) == 1 or any(ch.isdigit() for ch in normalised)):
        return False
    return all(_format_alphabet(ch) is not None for ch in normalised)


def words_to_reserve(
    text: str, *, keep_words: frozenset[str] = frozenset(), formatted: bool = False
) -> set[str]:
    """The normalised words of ``text`` that ``surrogate_text`` will look up in a book."""
    found = set()
    for match in tokens(text):
        normalised = fold(match.group())
        if normalised not in keep_words and not _is_formatted(normalised, formatted=formatted):
            found.add(normalised)
    return found


def surrogate_text(
    book: SurrogateBook,
    text: str,
    *,
    keep_words: frozenset[str] = frozenset(),
    formatted: bool = False,
) -> str:
    """Replace every alphanumeric token of ``text`` but ``keep_words``; separators stay.

    ``formatted`` treats every token as formatted (identifiers, contacts).
    """
    pieces = []
    cursor = 0
    for match in tokens(text):
        original = match.group()
        normalised = fold(original)
        pieces.append(text[cursor : match.start()])
        if normalised in keep_words:
            pieces.append(original)
        elif _is_formatted(normalised, formatted=formatted):
            replaced = format_surrogate(book.key, normalised)
            assert replaced is not None  # _is_formatted checked every character
            pieces.append(match_case(original, replaced))
        else:
            pieces.append(match_case(original, book.word(normalised)))
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces)
