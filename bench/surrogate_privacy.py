"""What surrogates tell an adversary, and how often the ledger has to move a word.

    PYTHONPATH=. python bench/surrogate_privacy.py --out bench/results_surrogates.json

1. Shape: made-up names that are in no pool (the ones the old cipher kept the
   shape of) and Faker's en_US surnames (a public roster). For each, the share of
   surrogates with the original's length and vowel/consonant pattern, against the
   share for unrelated pairs (each original beside another's surrogate).
2. Roster attack: an adversary who knows the original is on the roster keeps the
   roster names with the surrogate's length and pattern. How often the original
   survives that filter, and how many names do.
3. Ledger: simulated patients with 5 to 60 distinct words each (names and rare
   words). Collisions (two words of one patient on one surrogate) and how many
   words had to move off their first candidate.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from collections import Counter

from transforms.redaction.surrogates import (
    assign_words,
    bundled_name_pools,
    word_candidates,
)

VOWELS = set("aeiou")


def shape(word: str) -> str:
    return "".join("v" if ch in VOWELS else "c" for ch in word)


def made_up_names(count: int, pools, rng: random.Random) -> list[str]:
    names: dict[str, None] = {}  # distinct, in the order drawn
    while len(names) < count:
        word = "".join(rng.choice("aeioubcdfghjklmnprstvwz") for _ in range(rng.randint(3, 12)))
        if word not in pools.index:
            names[word] = None
    return list(names)


def surrogate_of(word: str, patient: int, pools) -> str:
    key = b"bench-patient-%d" % patient
    return assign_words(key, [word], pools, {}).surrogates[word]


def shape_figures(originals: list[str], pools) -> dict:
    surrogates = [surrogate_of(word, n, pools) for n, word in enumerate(originals)]
    shifted = surrogates[1:] + surrogates[:1]
    pairs = list(zip(originals, surrogates, strict=True))
    unrelated = list(zip(originals, shifted, strict=True))

    def share(items, test) -> float:
        return round(sum(test(o, s) for o, s in items) / len(items), 4)

    same_length = lambda o, s: len(o) == len(s)  # noqa: E731
    same_both = lambda o, s: len(o) == len(s) and shape(o) == shape(s)  # noqa: E731
    return {
        "names": len(originals),
        "same_length": share(pairs, same_length),
        "same_length_unrelated_pairs": share(unrelated, same_length),
        "same_length_and_pattern": share(pairs, same_both),
        "same_length_and_pattern_unrelated_pairs": share(unrelated, same_both),
    }


def roster_attack(roster: list[str], pools) -> dict:
    by_shape = Counter(shape(name) for name in roster)
    survives, sizes = 0, []
    for number, original in enumerate(roster):
        surrogate = surrogate_of(original, number, pools)
        size = by_shape.get(shape(surrogate), 0)
        sizes.append(size)
        survives += shape(surrogate) == shape(original)
    return {
        "roster": len(roster),
        "original_survives_the_shape_filter": round(survives / len(roster), 4),
        "median_names_left": statistics.median(sizes),
        "names_left_of_an_unfiltered_roster": len(roster),
    }


def ledger_figures(patients: int, pools, rng: random.Random) -> dict:
    collisions = moved = words_total = 0
    vocabulary = sorted(set(pools.pools[2][:3000]) | set(made_up_names(3000, pools, rng)))
    for patient in range(patients):
        key = b"ledger-patient-%d" % patient
        words = set(rng.sample(vocabulary, rng.randint(5, 60)))
        surrogates = assign_words(key, words, pools, {}).surrogates
        collisions += len(words) - len(set(surrogates.values()))
        words_total += len(words)
        for word, surrogate in surrogates.items():
            first = next(c for c in word_candidates(key, word, pools) if c != word)
            moved += surrogate != first
    return {
        "patients": patients,
        "words": words_total,
        "collisions": collisions,
        "words_moved_off_their_first_candidate": moved,
        "share_moved": round(moved / words_total, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench/results_surrogates.json")
    parser.add_argument("--names", type=int, default=3000)
    parser.add_argument("--patients", type=int, default=2000)
    args = parser.parse_args()
    # The eval extra's Faker: a public roster of common US surnames.
    from faker.providers.person.en_US import Provider

    pools = bundled_name_pools()
    rng = random.Random(11)
    roster = sorted({name.lower() for name in Provider.last_names})
    results = {
        "out_of_pool_names": shape_figures(made_up_names(args.names, pools, rng), pools),
        "roster_surnames": shape_figures(roster, pools),
        "roster_attack": roster_attack(roster, pools),
        "ledger": ledger_figures(args.patients, pools, rng),
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
