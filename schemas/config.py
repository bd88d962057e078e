"""The YAML config schema. Every key has a default; unknown keys are errors.

The README's "Config reference" documents each key; ``tests/schemas`` checks
that every key here appears there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class ConfigError(ValueError):
    """The config file is unreadable or invalid; the message names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnMapping(_Strict):
    """Which input column holds each deidcode field. Optional fields may be null."""

    note_id: str = "note_id"
    patient_id: str = "patient_id"
    text: str = "text"
    note_date: str | None = "note_date"
    encounter_id: str | None = "encounter_id"
    note_type: str | None = "note_type"
    author: str | None = "author"

    def required(self) -> dict[str, str]:
        return {"note_id": self.note_id, "patient_id": self.patient_id, "text": self.text}

    def optional(self) -> dict[str, str]:
        fields = {
            "note_date": self.note_date,
            "encounter_id": self.encounter_id,
            "note_type": self.note_type,
            "author": self.author,
        }
        return {k: v for k, v in fields.items() if v is not None}


class ColumnPolicy(_Strict):
    """How one unmapped input column is released into the notes table.

    keep: unchanged (only for columns without PHI); drop: left out (the
    default for any column without a policy); hash: keyed HMAC, the same value
    gives the same hash for every patient (for joins); date_shift: the
    patient's offset, format kept; generalize: ``kind`` date → year, zip →
    ZIP3, age → 90+; surrogate: the patient's consistent surrogate;
    deid_text: free text, run through every detector and the redaction policy.
    """

    type: Literal["keep", "drop", "hash", "date_shift", "generalize", "surrogate", "deid_text"]
    # generalize: what the column holds.
    kind: Literal["date", "zip", "age"] | None = None
    # surrogate: the PHI type the values are (NAME by default).
    phi_type: str = "NAME"
    # Settings passed to the operator (hash: length, format_preserving;
    # generalize: age_phrase, restricted_zip3; surrogate: keep_words).
    options: dict[str, Any] = Field(default_factory=dict)
    # A CSV or Parquet input that lacks a non-optional column stops the run
    # before it starts, instead of releasing an all-null column.
    optional: bool = False

    @model_validator(mode="after")
    def _kind_matches(self) -> ColumnPolicy:
        if (self.type == "generalize") != (self.kind is not None):
            raise ValueError("'kind' (date, zip or age) goes with type generalize, and only there")
        if self.options and self.type in ("keep", "drop", "date_shift", "deid_text"):
            raise ValueError(f"type {self.type} takes no options")
        return self


class InputConfig(_Strict):
    columns: ColumnMapping = ColumnMapping()
    # A policy for each unmapped column to release; every other unmapped column
    # is dropped. A policy is a type name or a mapping with ``type`` and settings.
    column_policies: dict[str, ColumnPolicy] = Field(default_factory=dict)
    max_text_chars: int = Field(default=1_000_000, ge=1)
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1)
    # A CSV, JSONL or Parquet file larger than this many MiB is read by several
    # workers at once, in splits cut at record boundaries.
    split_mb: float = Field(default=64, gt=0)
    note_date_formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y"]
    )

    @field_validator("column_policies", mode="before")
    @classmethod
    def _expand_shorthand(cls, policies: Any) -> Any:
        if isinstance(policies, dict):
            return {
                column: {"type": policy} if isinstance(policy, str) else policy
                for column, policy in policies.items()
            }
        return policies

    @model_validator(mode="after")
    def _policies_name_unmapped_columns(self) -> InputConfig:
        mapped = set(self.columns.required().values()) | set(self.columns.optional().values())
        clash = sorted(set(self.column_policies) & mapped)
        if clash:
            raise ValueError(
                f"column_policies names mapped column(s) {clash}; "
                "those are released by their own rules (see the README)"
            )
        return self

    def released_columns(self) -> list[str]:
        """The unmapped columns the notes table carries, in config order."""
        return [c for c, policy in self.column_policies.items() if policy.type != "drop"]


class DetectorSpec(_Strict):
    name: str
    enabled: bool = True
    options: dict[str, Any] = Field(default_factory=dict)


BUNDLED_PHI_MODEL = "deid_phi_minilm"


# A span filter is configured like a detector: a registered name and its options.
SpanFilterSpec = DetectorSpec


def _default_filters() -> list[SpanFilterSpec]:
    """Clinical values are never PHI; model-only spans need a plausible shape."""
    return [
        SpanFilterSpec(name="clinical_values"),
        SpanFilterSpec(name="model_shape_vocabulary"),
    ]


def _default_detectors() -> list[DetectorSpec]:
    """Patterns and the bundled transformer model, as a union: recall first."""
    return [
        DetectorSpec(name="presidio_patterns"),
        DetectorSpec(name="onnx_ner", options={"model": BUNDLED_PHI_MODEL}),
    ]


class DetectionConfig(_Strict):
    detectors: list[DetectorSpec] = Field(default_factory=_default_detectors)
    # Run in order on every detector's spans before they merge; they only remove.
    filters: list[SpanFilterSpec] = Field(default_factory=_default_filters)

    @field_validator("detectors")
    @classmethod
    def _at_least_one_enabled(cls, detectors: list[DetectorSpec]) -> list[DetectorSpec]:
        if not any(d.enabled for d in detectors):
            raise ValueError("at least one detector must be enabled")
        names = [d.name for d in detectors]
        if len(names) != len(set(names)):
            raise ValueError("each detector may be listed once")
        return detectors


BUNDLED_CLINICAL_MODEL = "clinical_ner_minilm"


class EntitiesConfig(_Strict):
    """Step 4: clinical entities (problems, drugs) and their assertion.

    On by default; ``enabled: false`` turns the step off, and no entities
    table rows are written. ``rules``/``sections`` add YAML files to the bundled
    ConText rules and section headers (``bundled_rules: false`` replaces them).
    """

    enabled: bool = True
    model: str = BUNDLED_CLINICAL_MODEL
    # Engine options (device, variant, deterministic, batch_size,
    # intra_op_num_threads) and default_threshold, thresholds (per label), labels.
    options: dict[str, Any] = Field(default_factory=dict)
    rules: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    bundled_rules: bool = True


class CodingConfig(_Strict):
    """Step 7: ICD-10-CM codes for each note's PROBLEM entities, with evidence.

    On by default; needs the entity step. By default negated, uncertain,
    hypothetical and family-history mentions are not coded, and historical ones
    only as a personal-history code (Z85-Z87) where one exists. CodiEsp's gold
    codes negated mentions and past conditions as such: evaluate with
    ``include_negated``, ``include_uncertain`` and ``historical: condition``.
    """

    enabled: bool = True
    # The bundled coder: lexical retrieval (the default), or icd10cm_coder_dense,
    # which adds the sentence encoder's candidates (better codes, a slower job).
    model: Literal["icd10cm_coder", "icd10cm_coder_dense"] = "icd10cm_coder"
    include_negated: bool = False
    include_uncertain: bool = False
    historical: Literal["history_code", "condition"] = "history_code"
    # The note-level score a suggestion needs; null takes the model's, chosen on
    # its validation fold (see transforms/coding/data/provenance.json).
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    max_codes_per_note: int = Field(default=30, ge=1, le=500)
    # Codes under the threshold, listed after the suggestions (status "candidate").
    max_candidates_per_note: int = Field(default=20, ge=0, le=500)


class RedactionConfig(_Strict):
    default: dict[str, Any] = Field(default_factory=lambda: {"type": "tag"})
    phi_types: dict[str, dict[str, Any]] = Field(default_factory=dict)
    subtypes: dict[str, dict[str, Any]] = Field(default_factory=dict)


class OmopOutputConfig(_Strict):
    """The OMOP CDM v5.4 copy of a run: ``omop/note/`` and ``omop/note_nlp/``."""

    enabled: bool = False
    # NOTE_NLP.nlp_date. OMOP asks for the processing date, but a run's outputs
    # are byte-identical for the same input, config and key only with a fixed
    # date: set it (e.g. the nightly job's export date) for reruns that must
    # match. Null: the date the run started, in UTC.
    nlp_date: dt.date | None = None
    # Width of the keyed integer ids. 63 bits: effectively collision-free, for
    # CDMs whose id columns are bigint. 31 bits: fits the official v5.4 DDL's
    # integer columns, but two of n patients share an id with probability about
    # n^2 / 2^32 (1 in 200 at 5,000 patients), and the run then fails.
    id_bits: Literal[31, 63] = 63


class OutputConfig(_Strict):
    # Parquet files per table, or "auto": one per 32 MiB of input
    # (transforms.io.sinks.auto_shard_count), which bounds the rows a worker sorts.
    num_shards: int | Literal["auto"] = "auto"

    @field_validator("num_shards")
    @classmethod
    def _shards_in_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 4096:
            raise ValueError("num_shards is a number from 1 to 4096, or auto")
        return value

    compression_level: int = Field(default=3, ge=1, le=22)
    # How the structured note_date column is released:
    # date_shift (per-patient keyed offset), year (January 1 of its year),
    # drop (null) or keep (unchanged: the date is PHI under Safe Harbor).
    note_date: Literal["date_shift", "year", "drop", "keep"] = "date_shift"
    # A protected directory for the full text of quarantined records. Unset,
    # quarantine holds IDs and reason codes only.
    quarantine_text_dir: str | None = None

    @field_validator("quarantine_text_dir")
    @classmethod
    def _protected_dir_is_local(cls, value: str | None) -> str | None:
        if value is not None and "://" in value:
            raise ValueError(
                "quarantine_text_dir holds note text and must be a local, owner-only "
                "directory, not an object-store URL"
            )
        return value

    # The OMOP copy of the run; ``omop: true`` is short for ``omop: {enabled: true}``.
    omop: OmopOutputConfig = OmopOutputConfig()

    @field_validator("omop", mode="before")
    @classmethod
    def _omop_shorthand(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _omop_needs_dates(self) -> OutputConfig:
        if self.omop.enabled and self.note_date == "drop":
            raise ValueError(
                "output.omop needs note dates (OMOP NOTE.note_date is required): "
                "use note_date: date_shift or year, not drop"
            )
        return self


class KeysConfig(_Strict):
    env_var: str = "DEIDCODE_KEY"
    min_key_chars: int = Field(default=32, ge=16)
    date_shift_min_days: int = -365
    date_shift_max_days: int = -1

    @model_validator(mode="after")
    def _range_ok(self) -> KeysConfig:
        if self.date_shift_min_days > self.date_shift_max_days:
            raise ValueError("date_shift_min_days must not exceed date_shift_max_days")
        if self.date_shift_min_days <= 0 <= self.date_shift_max_days:
            raise ValueError("the date shift range must exclude 0, or some dates stay unshifted")
        return self


class AuditConfig(_Strict):
    # SQLAlchemy URL; null writes a SQLite file DIR.audit.sqlite beside the output directory.
    db_url: str | None = None


class ReleaseConfig(_Strict):
    """What ``deidcode release`` checks before a release leaves."""

    # The released structured columns an adversary could match against public
    # rosters (birth year, ZIP3, sex). Null: every released column whose policy is
    # keep or generalize (hash and surrogate columns are pseudonyms, not quasi-identifiers).
    quasi_identifiers: list[str] | None = None
    # Patients in a group of quasi-identifier values smaller than this are listed.
    k: int = Field(default=5, ge=2)


class DeidcodeConfig(_Strict):
    input: InputConfig = InputConfig()
    detection: DetectionConfig = DetectionConfig()
    entities: EntitiesConfig = EntitiesConfig()
    coding: CodingConfig = CodingConfig()
    redaction: RedactionConfig = RedactionConfig()
    output: OutputConfig = OutputConfig()
    keys: KeysConfig = KeysConfig()
    audit: AuditConfig = AuditConfig()
    release: ReleaseConfig = ReleaseConfig()

    @model_validator(mode="after")
    def _coding_needs_entities(self) -> DeidcodeConfig:
        if self.coding.enabled and not self.entities.enabled:
            raise ValueError(
                "coding.enabled needs entities.enabled: codes come from the clinical "
                "entities; turn coding off too (coding: {enabled: false})"
            )
        return self

    def sha256(self) -> str:
        """Hash of the resolved config, defaults included, for the manifest."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _format_validation_error(source: str, error: ValidationError) -> str:
    lines = [f"invalid config {source}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "<top level>"
        lines.append(f"  key '{key}': {item['msg']}")
    return "\n".join(lines)


def parse_config(data: Any, *, source: str = "<config>") -> DeidcodeConfig:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config {source}: the top level must be a mapping")
    try:
        return DeidcodeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None


def load_config(path: str | Path | None) -> DeidcodeConfig:
    """Load and validate a YAML config; ``None`` gives the embedded defaults."""
    if path is None:
        return DeidcodeConfig()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read ({type(exc).__name__})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    return parse_config(data, source=str(path))
