import re

import pytest
from pydantic import BaseModel

from schemas.config import ConfigError, DeidcodeConfig, load_config, parse_config
from tests.conftest import REPO_ROOT


def test_defaults_are_valid_and_hash_is_stable():
    assert parse_config({}).sha256() == DeidcodeConfig().sha256()
    assert load_config(None) == DeidcodeConfig()


def test_the_entity_step_is_on_by_default_with_the_bundled_model():
    entities = DeidcodeConfig().entities
    assert entities.enabled and entities.model == "clinical_ner_minilm"
    off = {"entities": {"enabled": False}, "coding": {"enabled": False}}
    assert not parse_config(off).entities.enabled


def test_coding_is_on_by_default_and_needs_the_entity_step():
    coding = DeidcodeConfig().coding
    assert coding.enabled and not coding.include_negated and coding.historical == "history_code"
    with pytest.raises(ConfigError, match="coding.enabled needs entities.enabled"):
        parse_config({"entities": {"enabled": False}})
    with pytest.raises(ConfigError, match="coding.historical"):
        parse_config({"coding": {"historical": "sometimes"}})


@pytest.mark.parametrize(
    "data, key",
    [
        ({"input": {"columns": {"nte_id": "x"}}}, "input.columns.nte_id"),
        ({"output": {"num_shards": 0}}, "output.num_shards"),
        ({"output": {"note_date": "shred"}}, "output.note_date"),
        ({"keys": {"date_shift_min_days": -5, "date_shift_max_days": 5}}, "keys"),
        ({"detection": {"detectors": []}}, "detection.detectors"),
        ({"input": {"column_policies": {"text": "keep"}}}, "input"),
        ({"input": {"column_policies": {"zip": "generalize"}}}, "input.column_policies.zip"),
        (
            {"input": {"column_policies": {"mrn": {"type": "shred"}}}},
            "input.column_policies.mrn.type",
        ),
        ({"entities": {"enabeld": False}}, "entities.enabeld"),
        ({"entities": {"rules": "mine.yaml"}}, "entities.rules"),
    ],
)
def test_invalid_config_names_the_key(data, key):
    with pytest.raises(ConfigError, match=re.escape(f"key '{key}'")):
        parse_config(data, source="x.yaml")


def test_config_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML at line"):
        load_config(bad)
    top = tmp_path / "top.yaml"
    top.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(top)


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_keys(annotation, dotted + "."))
        else:
            keys.append(dotted)
    return keys


def test_readme_documents_every_config_key():
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [key for key in _keys(DeidcodeConfig) if f"`{key}`" not in readme]
    assert not missing, f"README's config reference lacks {missing}"


def test_example_config_is_valid():
    load_config(REPO_ROOT / "examples" / "config.yaml")
