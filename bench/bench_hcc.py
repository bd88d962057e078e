"""CMS-HCC scoring throughput: the engine alone, and `deidcode hcc score` end to end.

    python bench/bench_hcc.py --members 200000 --out bench/results_hcc.json

Members are synthetic, with 5-15 diagnoses each drawn from the pinned V28
mapping (and some ICD-10-CM codes that map to no HCC), all from eligible
encounters. Rates are members per minute of wall time on this machine; the
end-to-end run includes reading CSV, validating every code against ICD-10-CM,
the join by member in Beam, scoring and writing four Parquet tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from pipeline.hcc_job import HccRequest, run_hcc
from pipeline.lifecycle import RunVerificationError
from transforms.hcc.engine import Member, score_member
from transforms.hcc.tables import load_payment_year

NON_HCC_CODES = ["I10", "E785", "Z0000", "R519", "M5450", "K219", "J069"]


def make_members(n: int, payment_year: int, seed: int) -> list[tuple[Member, list[str]]]:
    rng = random.Random(seed)
    codes = sorted(load_payment_year(payment_year).models["V28"].dx_to_cc)
    members = []
    for index in range(n):
        member = Member(
            member_id=f"M{index:08d}",
            age=rng.randint(20, 99),
            sex=rng.choice("FM"),
            orec=rng.choice("0001"),
            dual=rng.choice(["none", "none", "partial", "full"]),
            institutional=rng.random() < 0.05,
            new_enrollee=rng.random() < 0.05,
        )
        count = rng.randint(5, 15)
        diagnoses = [
            rng.choice(codes) if rng.random() < 0.7 else rng.choice(NON_HCC_CODES)
            for _ in range(count)
        ]
        members.append((member, diagnoses))
    return members


def write_inputs(
    members: list[tuple[Member, list[str]]], directory: Path, payment_year: int
) -> tuple[Path, Path]:
    member_path, diagnosis_path = directory / "members.csv", directory / "diagnoses.csv"
    with member_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "member_id",
                "age",
                "sex",
                "orec",
                "dual_status",
                "institutional",
                "new_enrollee",
                "snp",
            ]
        )
        for m, _ in members:
            writer.writerow(
                [
                    m.member_id,
                    m.age,
                    m.sex,
                    m.orec,
                    m.dual,
                    int(m.institutional),
                    int(m.new_enrollee),
                    0,
                ]
            )
    with diagnosis_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["member_id", "code", "date_of_service", "encounter_id", "source"])
        for m, codes in members:
            for number, code in enumerate(codes):
                writer.writerow(
                    [
                        m.member_id,
                        code,
                        f"{payment_year - 1}-06-01",
                        f"{m.member_id}-{number}",
                        "face_to_face",
                    ]
                )
    return member_path, diagnosis_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--payment-year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    members = make_members(args.members, args.payment_year, args.seed)
    n_codes = sum(len(c) for _, c in members)
    year = load_payment_year(args.payment_year)
    started = time.perf_counter()
    for member, codes in members:
        score_member(member, codes, year)
    engine_s = time.perf_counter() - started
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "payment_year": args.payment_year,
        "members": args.members,
        "diagnoses": n_codes,
        "engine_seconds": round(engine_s, 2),
        "engine_members_per_minute": round(args.members / engine_s * 60),
    }
    if not args.skip_pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            member_path, diagnosis_path = write_inputs(members, Path(tmp), args.payment_year)
            for label, beam_args in (
                ("pipeline_in_process", []),
                (
                    "pipeline_2_processes",
                    ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
                ),
            ):
                started = time.perf_counter()
                try:
                    run_hcc(
                        HccRequest(
                            members=str(member_path),
                            diagnoses=str(diagnosis_path),
                            payment_year=args.payment_year,
                            output=str(Path(tmp) / label),
                            beam_args=beam_args,
                        )
                    )
                except RunVerificationError as exc:
                    # The run's own count check caught records the runner lost.
                    results[f"{label}_failed"] = str(exc)
                    continue
                seconds = time.perf_counter() - started
                results[f"{label}_seconds"] = round(seconds, 2)
                results[f"{label}_members_per_minute"] = round(args.members / seconds * 60)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
