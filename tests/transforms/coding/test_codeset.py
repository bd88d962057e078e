"""The bundled ICD-10-CM code set: billable codes only, pinned, with their terms."""

import gzip
import shutil

import pytest

from transforms.coding import codeset
from transforms.coding.codeset import CodeSetError, add_dot, bundled_code_set


def test_only_billable_codes_are_in_the_set():
    codes = bundled_code_set()
    assert len(codes) == 74_719
    # Categories named like their one-category block are codes too (HIV is an HCC).
    assert "B20" in codes and "R99" in codes
    assert "E11.22" in codes and "E11.9" in codes
    # Categories and subcategories with children are never codes to suggest.
    assert "E11" not in codes and "E11.2" not in codes and "S72.001" not in codes
    # A seventh character makes an injury code billable.
    assert "S72.001A" in codes


def test_terms_and_parents_come_from_the_tabular_list():
    i10 = bundled_code_set().get("I10")
    assert i10.title == "Essential (primary) hypertension"
    assert "high blood pressure" in i10.includes
    assert i10.terms[0] == i10.title and i10.parent == ""
    assert bundled_code_set().get("I21.9").inclusion_terms == ("Myocardial infarction (acute) NOS",)
    assert bundled_code_set().get("E11.22").parent == "E11.2"


def test_the_same_billable_codes_as_the_hcc_code_set():
    from transforms.hcc.tables import icd10cm_codes

    hcc = {code for code, billable in icd10cm_codes().items() if billable}
    assert {code.replace(".", "") for code in bundled_code_set().entries} == hcc


def test_an_altered_file_is_refused_naming_it(tmp_path, monkeypatch):
    altered = tmp_path / "data"
    shutil.copytree(codeset.DATA_DIR, altered)
    with gzip.open(altered / codeset.TERMS_FILE, "at", encoding="utf-8") as handle:
        handle.write('{"c": "X999", "t": "made up", "i": [], "n": [], "p": ""}\n')
    monkeypatch.setattr(codeset, "DATA_DIR", altered)
    bundled_code_set.cache_clear()
    try:
        with pytest.raises(CodeSetError, match="icd10cm_terms.jsonl.gz has sha256"):
            bundled_code_set()
    finally:
        monkeypatch.undo()
        bundled_code_set.cache_clear()


def test_add_dot():
    assert add_dot("E1122") == "E11.22" and add_dot("I10") == "I10"
