"""Write the assertion test set: hand-written clinical sentence frames, each with its
gold assertion, filled with problems. Frames were written as a clinician would
write them, not from the rule list; some use phrasings the bundled rules lack,
and the report counts those misses too.

    python bench/assertion/make_test_set.py  # writes bench/assertion/test_set.jsonl

Gold labels per frame: (negated, temporality, experiencer); {P} is the problem.
"""

from __future__ import annotations

import json
from pathlib import Path

PROBLEMS = [
    "pneumonia", "chest pain", "diabetes mellitus", "atrial fibrillation", "asthma",
    "hypertension", "pulmonary embolism", "breast cancer", "seizures", "depression",
    "a urinary tract infection", "congestive heart failure", "migraine headaches",
]  # fmt: skip

A, N = False, True
R, H, Y = "recent", "historical", "hypothetical"
PT, OT = "patient", "other"

FRAMES: list[tuple[str, bool, str, str]] = [
    # affirmed, the patient's own, now
    ("Patient presents with {P}.", A, R, PT),
    ("Assessment: {P}, stable on current regimen.", A, R, PT),
    ("She was admitted for {P}.", A, R, PT),
    ("He reports worsening {P} over the last week", A, R, PT),
    ("Diagnosis: {P}", A, R, PT),
    ("The patient has {P} and is here for follow-up.", A, R, PT),
    ("Known {P}, well controlled.", A, R, PT),
    ("pt c/o {P} since this morning", A, R, PT),
    ("Started treatment for {P} today.", A, R, PT),
    ("Exam notable for {P}.", A, R, PT),
    ("Continues to have {P}.", A, R, PT),
    ("Impression: acute {P}.", A, R, PT),
    # negated
    ("No {P}.", N, R, PT),
    ("Denies {P}.", N, R, PT),
    ("Negative for {P}.", N, R, PT),
    ("There is no evidence of {P}.", N, R, PT),
    ("{P} was ruled out.", N, R, PT),
    ("Patient denies fever, chills or {P}.", N, R, PT),
    ("The patient has not had {P}.", N, R, PT),
    ("Free of {P} at this visit.", N, R, PT),
    ("No signs or symptoms of {P}.", N, R, PT),
    ("She has never had {P}.", N, R, PT),
    ("Imaging was negative for {P}.", N, R, PT),
    ("Without {P} or shortness of breath.", N, R, PT),
    ("There was no recurrence of {P}.", N, R, PT),
    ("He does not have {P}.", N, R, PT),
    ("ROS: neg for {P}", N, R, PT),
    # pseudo-triggers: a negation word that negates nothing
    ("There is no increase in her {P}.", A, R, PT),
    ("No change in his {P} since the last visit.", A, R, PT),
    ("Not only {P} but also fatigue.", A, R, PT),
    ("Gram negative rods were grown; she has {P}.", A, R, PT),
    ("No interval change in the {P}.", A, R, PT),
    # a scope ends before the problem
    ("Denies fever but reports {P}.", A, R, PT),
    ("No nausea; however, {P} persists.", A, R, PT),
    ("No vomiting, although {P} continues.", A, R, PT),
    ("Denies cough, yet complains of {P}.", A, R, PT),
    ("No history of surgery, now with {P}.", A, R, PT),
    # historical
    ("History of {P}.", A, H, PT),
    ("She had {P} in 2015.", A, H, PT),
    ("Past medical history: {P}.", A, H, PT),
    ("Status post treatment for {P}.", A, H, PT),
    ("Hx of {P}, no recent episodes", A, H, PT),
    ("s/p {P} last year", A, H, PT),
    ("He was treated for {P} years ago.", A, H, PT),
    ("PMH:\n{P}\nhypothyroidism", A, H, PT),
    ("Remote history of {P}.", A, H, PT),
    ("{P} as a child.", A, H, PT),
    ("Previously diagnosed with {P}.", A, H, PT),
    # hypothetical
    ("Return if {P} develops.", A, Y, PT),
    ("Call the clinic if {P} recurs.", A, Y, PT),
    ("Watch for signs of {P}.", A, Y, PT),
    ("If {P} worsens, increase the dose.", A, Y, PT),
    ("Should {P} occur, go to the emergency department.", A, Y, PT),
    ("Monitor for {P} after discharge.", A, Y, PT),
    ("She is at risk for {P}.", A, Y, PT),
    ("Counseled on the risk of {P}.", A, Y, PT),
    ("Return precautions given for {P}.", A, Y, PT),
    # family
    ("Mother has {P}.", A, R, OT),
    ("Family history of {P}.", A, R, OT),
    ("His father died of {P}.", A, R, OT),
    ("Family history: brother with {P}.", A, R, OT),
    ("Her sister was diagnosed with {P}.", A, R, OT),
    ("FH: {P} in maternal aunt", A, R, OT),
    ("Grandpa had {P}.", A, R, OT),
    # combined
    ("No family history of {P}.", N, R, OT),
    ("Denies history of {P}.", N, H, PT),
    ("Mother does not have {P}.", N, R, OT),
]


def records() -> list[dict]:
    out = []
    for f, (frame, negated, temporality, experiencer) in enumerate(FRAMES):
        for k in range(5):
            problem = PROBLEMS[(f * 5 + k) % len(PROBLEMS)]
            text = frame.replace("{P}", problem)
            if frame.startswith("{P}"):
                text = text[0].upper() + text[1:]
            start = text.lower().index(problem.lower())
            span = {"start": start, "end": start + len(problem), "negated": negated,
                    "temporality": temporality, "experiencer": experiencer}  # fmt: skip
            out.append({"id": f"f{f:02d}-{k}", "text": text, "spans": [span]})
    return out


def main() -> None:
    path = Path(__file__).with_name("test_set.jsonl")
    lines = [json.dumps(r, ensure_ascii=False) for r in records()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} sentences, {len(FRAMES)} frames -> {path}")


if __name__ == "__main__":
    main()
