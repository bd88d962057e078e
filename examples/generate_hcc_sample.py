"""Generate examples/hcc_members.csv and examples/hcc_diagnoses.csv: synthetic
members for `deidcode hcc score` (payment year 2026; dates of service in 2025).

Members cover every segment (community non-dual, partial and full dual, aged
and disabled; institutional; new enrollees, with and without a SNP). Diagnoses
come from every encounter source, including audio-only and unlinked chart
reviews. A few records are deliberately bad so a run shows quarantine at work.

Run: python examples/generate_hcc_sample.py  (deterministic; rewrites the CSVs)
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent
# Real ICD-10-CM codes: HCC codes chosen to hit hierarchies and interactions
# (heart failure, diabetes, CKD, COPD, cancer, psychiatric and substance use),
# and codes that map to no HCC.
HCC_CODES = [
    "I50.22",
    "I50.9",
    "I50.43",
    "Z94.1",
    "E11.22",
    "E11.9",
    "E10.10",
    "N18.4",
    "N18.6",
    "N18.32",
    "J44.9",
    "J44.1",
    "J96.01",
    "C34.90",
    "C78.7",
    "C50.911",
    "F20.9",
    "F31.9",
    "F10.20",
    "F11.20",
    "I48.0",
    "G30.9",
    "G20.A1",
    "L89.154",
    "A41.9",
    "K70.30",
    "D61.818",
]
OTHER_CODES = ["I10", "Z00.00", "R51.9", "M54.50", "E78.5"]
SOURCES = ["face_to_face"] * 6 + ["video", "video", "audio_only", "chart_review"]
SEGMENT_SHAPES = [
    # (age, orec, dual, institutional, new_enrollee, snp)
    (72, "0", "none", False, False, False),
    (58, "1", "none", False, False, False),
    (81, "0", "full", False, False, False),
    (44, "1", "full", False, False, False),
    (69, "1", "partial", False, False, False),
    (39, "1", "partial", False, False, False),
    (88, "0", "full", True, False, False),
    (66, "0", "none", False, True, False),
    (67, "0", "full", False, True, True),
]


def birth_date(rng: random.Random, age: int) -> str:
    # Age on February 1, 2026.
    return f"{2026 - age - 1}-{rng.randint(3, 12):02d}-{rng.randint(1, 28):02d}"


def main() -> None:
    rng = random.Random(20261122)
    members, diagnoses = [], []
    for index in range(36):
        age, orec, dual, institutional, new, snp = SEGMENT_SHAPES[index % len(SEGMENT_SHAPES)]
        member_id = f"MBR{index + 1:04d}"
        members.append(
            {
                "member_id": member_id,
                "birth_date": birth_date(rng, age + rng.randint(0, 3)),
                "sex": rng.choice("FM"),
                "orec": orec,
                "dual_status": dual,
                "institutional": "Y" if institutional else "N",
                "new_enrollee": "Y" if new else "N",
                "snp": "Y" if snp else "N",
            }
        )
        for number in range(rng.randint(0, 12)):
            source = rng.choice(SOURCES)
            linked = source != "chart_review" or rng.random() < 0.5
            diagnoses.append(
                {
                    "member_id": member_id,
                    "code": rng.choice(HCC_CODES + OTHER_CODES),
                    "date_of_service": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "encounter_id": f"ENC{index + 1:04d}{number:02d}" if linked else "",
                    "source": source,
                }
            )
    # The README's worked example: female, 72, community, non-dual, aged.
    members.append(
        {
            "member_id": "MBR9001",
            "birth_date": "1953-06-15",
            "sex": "F",
            "orec": "0",
            "dual_status": "none",
            "institutional": "N",
            "new_enrollee": "N",
            "snp": "N",
        }
    )
    for number, code in enumerate(["Z94.1", "I50.22", "E11.22", "N18.4", "J44.9"]):
        diagnoses.append(
            {
                "member_id": "MBR9001",
                "code": code,
                "date_of_service": "2025-03-14",
                "encounter_id": f"ENC9001{number:02d}",
                "source": "face_to_face",
            }
        )
    # Bad records: a member with an unknown sex, a duplicate member_id, a code that is
    # no ICD-10-CM code, a category code, a diagnosis of an unknown member, a bad date,
    # and a diagnosis from 2024 (outside the collection year).
    members.append({**members[0], "member_id": "MBR9002", "sex": "U"})
    members.append({**members[1]})
    bad = {
        "member_id": "MBR0003",
        "date_of_service": "2025-05-05",
        "encounter_id": "ENCX",
        "source": "face_to_face",
    }
    diagnoses += [
        {**bad, "code": "XYZ.123"},
        {**bad, "code": "E11"},
        {**bad, "member_id": "MBR7777", "code": "I50.9"},
        {**bad, "code": "I50.9", "date_of_service": "last spring"},
        {**bad, "code": "I50.9", "date_of_service": "2024-12-30"},
    ]
    for name, rows in (("hcc_members.csv", members), ("hcc_diagnoses.csv", diagnoses)):
        with (HERE / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    print(f"wrote {len(members)} members and {len(diagnoses)} diagnoses")


if __name__ == "__main__":
    main()
