"""`deidcode release` on real runs: only the releasable tables leave, with no original
offset, unkeyed digest or input hash, and the report flags planted unique patients."""

import csv
import hashlib
import json
import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from tests.browser import dump_dom
from tests.conftest import REPO_ROOT, SAMPLE_CSV, TEST_KEY
from tests.pipeline.helpers import manifest, run_export, table
from tests.pipeline.s3 import BUCKET, beam_flags, keys_under, read_object, upload_tree
from transforms.core.keyed import RunKeys, pseudonymize

CONFIG = REPO_ROOT / "examples" / "research_release.yaml"
# Columns that point into the original text or at source records.
ORIGINAL_POSITION_COLUMNS = {"start", "end", "source_file", "record_number", "field"}
HEX = re.compile(rb"[0-9a-f]{32,64}")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEIDCODE_KEY", TEST_KEY)
        assert run_export(SAMPLE_CSV, root / "run", fmt="csv", config=CONFIG) == 0
        release = ["release", str(root / "run"), "--to", str(root / "rel"), "--config", str(CONFIG)]
        assert main(release) == 0
    return root


def forbidden_digests(run_dir, inputs) -> set[bytes]:
    """Digests that would let someone holding an original confirm it: unkeyed sha256 of
    the input files and note texts, and the run's own keyed input and text digests."""
    found = {hashlib.sha256(path.read_bytes()).hexdigest() for path in inputs}
    for path in inputs:
        with path.open(encoding="utf-8", newline="") as handle:
            found |= {
                hashlib.sha256(r["text"].encode()).hexdigest() for r in csv.DictReader(handle)
            }
    found |= {item["hmac_sha256"] for item in manifest(run_dir)["inputs"]}
    found |= {row["text_hmac"] for row in table(run_dir, "audit") if row["text_hmac"]}
    return {digest.encode() for digest in found}


def release_leaks(release_dir, run_dir, inputs) -> list[str]:
    """Everything in a release that should not be there."""
    leaks = []
    forbidden = forbidden_digests(run_dir, inputs)
    note_ids = {row["note_id"].encode() for row in table(run_dir, "audit") if row["note_id"]}
    for path in sorted(release_dir.rglob("*")):
        if path.is_dir():
            continue
        if path.suffix == ".parquet":
            schema = pq.read_schema(path)
            columns = set(schema.names) & ORIGINAL_POSITION_COLUMNS
            leaks += [f"{path.relative_to(release_dir)}: column {c}" for c in sorted(columns)]
            # A list of structs (codes' evidence) must not carry original offsets either.
            for field in schema:
                if pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type):
                    nested = {f.name for f in field.type.value_type} & ORIGINAL_POSITION_COLUMNS
                    leaks += [
                        f"{path.relative_to(release_dir)}: column {field.name}.{c}"
                        for c in sorted(nested)
                    ]
            content = json.dumps(pq.read_table(path).to_pylist(), default=str).encode()
        else:
            content = path.read_bytes()
        leaks += [
            f"{path.relative_to(release_dir)}: digest {m.decode()[:12]}…"
            for m in HEX.findall(content)
            if m in forbidden
        ]
        leaks += [
            f"{path.relative_to(release_dir)}: note id"
            for m in re.findall(rb'"note_id": "([^"]+)"', content)
            if m in note_ids
        ][:1]
    return leaks


def test_only_releasable_tables_leave_and_the_report_stays_beside(released):
    rel = released / "rel"
    assert sorted(p.name for p in rel.iterdir()) == [
        "codes",
        "entities",
        "notes",
        "release_manifest.json",
    ]
    report = released / "rel.release_report.html"
    assert report.is_file() and report.stat().st_mode & 0o077 == 0  # owner only
    release_manifest = json.loads((rel / "release_manifest.json").read_text())
    assert set(release_manifest["tables"]) == {"notes", "entities", "codes"}
    assert release_manifest["withheld_columns"] == {
        "notes": [],
        "entities": ["start", "end"],
        "codes": ["evidence.start", "evidence.end"],
    }
    assert "inputs" not in release_manifest and "key_fingerprint" not in release_manifest
    notes, run_notes = table(rel, "notes"), table(released / "run", "notes")
    assert len(notes) == 47
    # The same rows, with keyed note ids in place of the hospital's.
    assert not {n["note_id"] for n in notes} & {n["note_id"] for n in run_notes}
    strip = lambda rows: sorted(  # noqa: E731
        tuple(sorted((k, str(v)) for k, v in r.items() if k != "note_id")) for r in rows
    )
    assert strip(notes) == strip(run_notes)
    entities = table(rel, "entities")
    assert len(entities) == len(table(released / "run", "entities"))
    assert {"start_deid", "end_deid", "text_deid"} <= set(entities[0])
    assert {e["note_id"] for e in entities} <= {n["note_id"] for n in notes}
    by_note = {n["note_id"]: n["text_deid"] for n in notes}
    for entity in entities:
        if entity["start_deid"] is not None:
            surface = by_note[entity["note_id"]][entity["start_deid"] : entity["end_deid"]]
            assert surface == entity["text_deid"]
    # Codes keep their evidence as positions and surfaces on the released text only.
    codes, run_codes = table(rel, "codes"), table(released / "run", "codes")
    assert codes and len(codes) == len(run_codes)
    assert {c["note_id"] for c in codes} <= set(by_note)
    for code in codes:
        for span in code["evidence"]:
            assert set(span) == {"start_deid", "end_deid", "text_deid"}
            if span["start_deid"] is not None:
                surface = by_note[code["note_id"]][span["start_deid"] : span["end_deid"]]
                assert surface == span["text_deid"]


def test_no_original_offset_unkeyed_digest_or_input_hash_reaches_the_release(released):
    assert release_leaks(released / "rel", released / "run", [SAMPLE_CSV]) == []


def test_the_leak_check_finds_planted_leaks(released, tmp_path):
    # The check above can fail: plant each kind of leak in a copy of the release.
    planted = tmp_path / "planted"
    shutil.copytree(released / "rel", planted)
    shutil.copytree(released / "run" / "phi_spans", planted / "phi_spans")
    shutil.copytree(released / "run" / "codes", planted / "run_codes")
    (planted / "inputs.json").write_text(json.dumps(manifest(released / "run")["inputs"]))
    sha = hashlib.sha256(SAMPLE_CSV.read_bytes()).hexdigest()
    (planted / "notes.txt").write_text(f"export {sha}\n")
    leaks = release_leaks(planted, released / "run", [SAMPLE_CSV])
    assert any("phi_spans" in leak and "column start" in leak for leak in leaks)
    assert any("run_codes" in leak and "column evidence.start" in leak for leak in leaks)
    assert any(leak.startswith("inputs.json: digest") for leak in leaks)
    assert any(leak.startswith("notes.txt: digest") for leak in leaks)
    assert any(leak.startswith("phi_spans") and leak.endswith("note id") for leak in leaks)


def test_the_report_renders_in_a_browser_with_its_figures(released):
    dom = dump_dom(released / "rel.release_report.html")
    assert "Re-identification report" in dom
    assert re.search(r"Expected missed PHI tokens per 1,000 notes: <b>\d+\.\d</b>", dom)
    assert "is 1-anonymous" in dom  # 12 patients with three quasi-identifiers
    assert "surrogate" in dom and "deid_phi_minilm" in dom
    for row in table(released / "run", "notes"):
        assert row["text_deid"][:40] not in dom


def planted_export(tmp_path):
    """Eleven patients in two groups of at least five, and one planted unique one."""
    rows = []
    for number in range(12):
        birth, zip_code = ("1950-02-03", "02139") if number < 6 else ("1962-07-01", "10001")
        if number == 11:
            birth, zip_code = ("1931-05-05", "02139")
        rows.append(
            {"note_id": f"N{number}", "patient_id": f"P{number}", "text": "Seen in clinic.",
             "birth_date": birth, "zip": zip_code}
        )  # fmt: skip
    path = tmp_path / "planted.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    config = tmp_path / "config.yaml"
    config.write_text(
        "input:\n  column_policies:\n"
        "    birth_date: {type: generalize, kind: date}\n"
        "    zip: {type: generalize, kind: zip}\n"
        "detection:\n  detectors:\n    - name: presidio_patterns\n"
        "entities:\n  enabled: false\n"
        "coding:\n  enabled: false\n"
        "release:\n  quasi_identifiers: [birth_date, zip]\n  k: 5\n"
    )
    return path, config


def test_k_anonymity_flags_a_planted_unique_combination(tmp_path, run_key, capsys):
    export, config = planted_export(tmp_path)
    assert run_export(export, tmp_path / "run", fmt="csv", config=config) == 0
    code = main(["release", str(tmp_path / "run"), "--to", str(tmp_path / "rel"),
                 "--config", str(config)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "smallest group 1; 1 patient(s) below k=5" in out
    unique = pseudonymize(RunKeys.derive(TEST_KEY.encode()).patient_id, "P11")
    dom = dump_dom(tmp_path / "rel.release_report.html")
    assert unique in dom and "1931, 021" in dom
    others = [
        pseudonymize(RunKeys.derive(TEST_KEY.encode()).patient_id, f"P{n}") for n in range(11)
    ]
    assert not any(other in dom for other in others)
    release_manifest = json.loads((tmp_path / "rel" / "release_manifest.json").read_text())
    assert release_manifest["k_anonymity"]["patients_below_k"] == 1
    assert unique not in json.dumps(release_manifest)


def test_release_refuses_what_it_cannot_release_safely(released, tmp_path, run_key, capsys):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(released / "run", unfinished)
    (unfinished / "_SUCCESS").unlink()
    assert main(["release", str(unfinished), "--to", str(tmp_path / "a")]) == 2
    assert "has no _SUCCESS" in capsys.readouterr().err
    assert main(["release", str(released / "run"), "--to", str(released / "rel")]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("release:\n  quasi_identifiers: [sex]\n")
    assert main(["release", str(released / "run"), "--to", str(tmp_path / "b"),
                 "--config", str(bad)]) == 2  # fmt: skip
    assert "release.quasi_identifiers names ['sex']" in capsys.readouterr().err
    key_file = tmp_path / "other.key"
    key_file.write_text("another-key-0123456789abcdef0123456789")
    key_file.chmod(0o600)
    assert main(["release", str(released / "run"), "--to", str(tmp_path / "c"),
                 "--key-file", str(key_file)]) == 2  # fmt: skip
    assert "is not the one run" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ("a", "b", "c"))
    assert not list(tmp_path.glob(".b.staging-*"))


def test_a_run_in_a_bucket_releases_into_a_bucket_as_it_does_locally(
    released, s3, s3_endpoint, tmp_path, monkeypatch
):
    monkeypatch.setenv("DEIDCODE_KEY", TEST_KEY)
    monkeypatch.chdir(tmp_path)  # no local folder named "s3:" may appear
    upload_tree(s3, released / "run", "runs/research")
    release = [
        "release", f"s3://{BUCKET}/runs/research", "--to", f"s3://{BUCKET}/releases/r1",
        "--config", str(CONFIG), *beam_flags(s3_endpoint),
    ]  # fmt: skip
    assert main(release) == 0
    published = keys_under(s3, "releases/")
    assert "releases/r1.release_report.html" in published  # beside the release, not in it
    assert not any("staging" in key for key in published)
    remote = json.loads(read_object(s3, "releases/r1/release_manifest.json"))
    local = json.loads((released / "rel" / "release_manifest.json").read_text())
    assert remote["tables"] == local["tables"]  # the same files, rows and sha256
    assert remote == local
    assert main(release) == 2  # a release never overwrites one
    assert not (tmp_path / "s3:").exists()
