import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.redaction.data import build_name_pools
from transforms.redaction.surrogates import (
    NAME_POOLS_FILE,
    KeyedPermutation,
    bundled_name_pools,
    encipher_token,
    fold,
    match_case,
    surrogate_text,
    surrogate_token,
)

KEY = b"patient-key-" * 3
OTHER_KEY = b"another-key-" * 3
POOLS = bundled_name_pools()
SURNAMES = POOLS.pools[2]
FEMALE = POOLS.pools[0]

name_tokens = st.sampled_from(SURNAMES + FEMALE + POOLS.pools[1])
other_tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
any_tokens = st.one_of(name_tokens, other_tokens)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100, 1000, 4973])
def test_keyed_permutation_is_a_bijection_and_successor_a_single_cycle(size):
    permutation = KeyedPermutation(KEY, size)
    forward = [permutation.forward(i) for i in range(size)]
    assert sorted(forward) == list(range(size))
    assert [permutation.inverse(v) for v in forward] == list(range(size))
    if size >= 2:
        # Following successors from 0 visits every element once: no fixed point, no short cycle.
        seen, value = [], 0
        for _ in range(size):
            seen.append(value)
            value = permutation.successor(value)
        assert value == 0 and sorted(seen) == list(range(size))


def test_keyed_permutation_depends_on_the_key():
    first = [KeyedPermutation(KEY, 500).forward(i) for i in range(500)]
    second = [KeyedPermutation(OTHER_KEY, 500).forward(i) for i in range(500)]
    assert first != second


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789ąłéß", min_size=1, max_size=12))
def test_cipher_changes_every_character_within_its_class(token):
    enciphered = encipher_token(KEY, token)
    assert len(enciphered) == len(token)
    for before, after in zip(token, enciphered, strict=True):
        assert before != after
        assert (before in "aeiou") == (after in "aeiou")
        assert before.isdigit() == after.isdigit()
        assert after.isalnum()


@settings(max_examples=200)
@given(st.lists(any_tokens, min_size=2, max_size=30, unique=True))
def test_one_patients_surrogates_never_collide_and_never_equal_the_original(values):
    surrogates = [surrogate_token(KEY, value, POOLS) for value in values]
    assert len(set(surrogates)) == len(values)
    assert all(s != v for s, v in zip(surrogates, values, strict=True))


@given(name_tokens)
def test_pool_names_map_into_their_own_pool(token):
    number, _ = POOLS.index[token]
    assert POOLS.index[surrogate_token(KEY, token, POOLS)][0] == number


@given(other_tokens)
def test_other_values_never_map_onto_a_pool_name(token):
    if token not in POOLS.index:
        assert surrogate_token(KEY, token, POOLS) not in POOLS.index


def test_case_variants_share_one_surrogate_with_their_own_case():
    lower = surrogate_text(KEY, "smith", POOLS)
    assert surrogate_text(KEY, "Smith", POOLS) == lower.capitalize()
    assert surrogate_text(KEY, "SMITH", POOLS) == lower.upper()
    assert surrogate_text(KEY, "Müller", POOLS) == surrogate_text(KEY, "Muller", POOLS)
    assert match_case("McDonald", "abcdefgh") == "AbCdefgh"


def test_shapes_are_kept():
    assert len(surrogate_text(KEY, "J.", POOLS)) == 2
    two_words = surrogate_text(KEY, "John Smith", POOLS)
    assert len(two_words.split(" ")) == 2 and two_words.istitle()
    # The surname is mapped the same in a full name and alone.
    assert two_words.split(" ")[1] == surrogate_text(KEY, "Smith", POOLS)
    phone = surrogate_text(KEY, "(617) 555-0123", POOLS)
    assert phone[0] == "(" and phone[4:6] == ") " and phone[9] == "-" and phone != "(617) 555-0123"
    assert surrogate_text(KEY, "617-555-0123", POOLS).replace("-", "") == "".join(
        ch for ch in phone if ch.isdigit()
    )
    mrn = surrogate_text(KEY, "AB0012345", POOLS)
    assert len(mrn) == 9 and mrn[:2].isupper() and mrn[:2].isalpha() and mrn[2:].isdigit()
    assert (
        surrogate_text(KEY, "St. Mary Hospital", POOLS, keep_words=frozenset({"st", "hospital"}))[
            :4
        ]
        == "St. "
    )


def test_patients_get_different_mappings():
    names = SURNAMES[:50]
    first = [surrogate_token(KEY, name, POOLS) for name in names]
    second = [surrogate_token(OTHER_KEY, name, POOLS) for name in names]
    assert sum(a == b for a, b in zip(first, second, strict=True)) <= 2


def test_same_surrogates_in_another_process_with_another_hash_seed():
    script = (
        "from transforms.redaction.surrogates import bundled_name_pools, surrogate_text;"
        f"print(surrogate_text({KEY!r}, 'John Smith 555-0123 Kowalczyk', bundled_name_pools()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == surrogate_text(KEY, "John Smith 555-0123 Kowalczyk", POOLS)


def test_bundled_pools_are_what_the_build_script_makes():
    pytest.importorskip("faker")
    document = json.loads(NAME_POOLS_FILE.read_text(encoding="utf-8"))
    assert document["pools"] == build_name_pools.build_pools()
    assert all(fold(t) == t for pool in POOLS.pools for t in pool)
