"""Run an ONNX token-classification model over texts: tokenize, window, batch, decode.

No Beam and no torch here: onnxruntime, tokenizers and numpy only, so the same
classifier serves the PHI detector, the clinical entity step and the
benchmarks. It returns the model's own entities (character offsets, model
label, mean probability); what they mean is the caller's business.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from onnx_models.registry import ModelBundle, ModelRegistryError
from onnx_models.runtime.decode import (
    Entity,
    decode_entities,
    softmax,
    trim_entity,
    words_from_tokens,
)
from onnx_models.runtime.session import open_session
from onnx_models.runtime.windows import Window, most_central_window, plan_windows

LOGGER = logging.getLogger(__name__)
DEVICES = ("auto", "cpu", "cuda")
VARIANT_CHOICES = ("auto", "fp32", "fp16", "int8")


class NerConfigError(ValueError):
    """Model settings that cannot work on this machine or with this model."""


@dataclass(frozen=True)
class EngineSettings:
    """How to run a model, whatever it finds."""

    model: str
    device: str = "auto"
    variant: str = "auto"
    batch_size: int = 32  # windows per onnxruntime call, when not deterministic
    # int8 dynamic quantization scales activations over the whole batch, so a
    # window's labels could depend on which notes share its batch. Deterministic
    # runs feed one window per call; false batches windows (see BENCHMARKS.md).
    deterministic: bool = True
    intra_op_num_threads: int = 0  # 0 lets onnxruntime choose
    # The mean probability an entity needs to be kept, by default and per label
    # (what a label is, a PHI type or an entity label, is the caller's).
    default_threshold: float = 0.5
    thresholds: Mapping[str, float] = field(default_factory=dict)
    # Window length and overlap in model tokens; None takes the model manifest's
    # (what it was trained on). Longer windows feed fewer overlapping tokens.
    max_length: int | None = None
    stride: int | None = None
    # None: each word takes its most probable label. A value: a word whose entity
    # labels together reach it is an entity even where O is the most probable
    # label (decode.words_from_tokens); more recall, more spans for the guards.
    entity_mass: float | None = None

    def threshold_for(self, label: str) -> float:
        return self.thresholds.get(label, self.default_threshold)

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise NerConfigError(f"device {self.device!r} is not one of {', '.join(DEVICES)}")
        if self.variant not in VARIANT_CHOICES:
            raise NerConfigError(
                f"variant {self.variant!r} is not one of {', '.join(VARIANT_CHOICES)}"
            )
        if self.batch_size < 1:
            raise NerConfigError("batch_size must be at least 1")
        for value in (self.default_threshold, *self.thresholds.values()):
            if not 0.0 <= value <= 1.0:
                raise NerConfigError("thresholds must be between 0 and 1")
        if self.max_length is not None and not 8 <= self.max_length <= 512:
            raise NerConfigError("max_length is a number of model tokens from 8 to 512")
        if self.entity_mass is not None and not 0.0 < self.entity_mass <= 1.0:
            raise NerConfigError("entity_mass must be in (0, 1], or null")
        if self.stride is not None and self.stride < 0:
            raise NerConfigError("stride must not be negative")


@dataclass(frozen=True)
class Runtime:
    providers: list[str]
    variant: str

    @property
    def uses_cuda(self) -> bool:
        return self.providers[0] == "CUDAExecutionProvider"


def choose_runtime(
    settings: EngineSettings, variants: Sequence[str], available: Sequence[str]
) -> Runtime:
    """CUDA with fp16 when a GPU is there and wanted; otherwise the CPU with int8."""
    has_cuda = "CUDAExecutionProvider" in available
    if settings.device == "cuda" and not has_cuda:
        raise NerConfigError(
            "device 'cuda' was asked for, but onnxruntime has no CUDA execution provider "
            "(install deidcode[gpu] on a machine with a GPU, or use device: auto)"
        )
    use_cuda = has_cuda and settings.device in {"cuda", "auto"}
    variant = settings.variant
    if variant == "auto":
        preferred = ("fp16", "fp32") if use_cuda else ("int8", "fp32")
        variant = next((v for v in preferred if v in variants), None) or "fp32"
    if variant not in variants:
        raise NerConfigError(f"the model has no {variant} variant (it has {sorted(variants)})")
    if use_cuda and variant == "int8":
        # onnxruntime's dynamic int8 kernels run on the CPU only.
        use_cuda = False
    providers = (
        ["CUDAExecutionProvider", "CPUExecutionProvider"] if use_cuda else ["CPUExecutionProvider"]
    )
    return Runtime(providers=providers, variant=variant)


@dataclass
class TokenizedNote:
    ids: list[int]
    offsets: list[tuple[int, int]]
    word_ids: list[int | None]
    windows: list[Window]


@dataclass
class EngineStats:
    """Counters for the benchmark: real tokens versus tokens including padding."""

    windows: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0

    @property
    def padding_ratio(self) -> float:
        return 0.0 if not self.padded_tokens else 1.0 - self.real_tokens / self.padded_tokens


class DocumentError(Exception):
    """One note failed; carries only the step and exception type, never text."""


class OnnxTokenClassifier:
    """A loaded model: one onnxruntime session and one tokenizer."""

    def __init__(self, bundle: ModelBundle, settings: EngineSettings) -> None:
        self.bundle = bundle
        self.manifest = bundle.manifest
        self.settings = settings
        # What decoding uses; a subclass may take a calibrated value from the manifest.
        self.entity_mass = settings.entity_mass
        self.runtime = choose_runtime(
            settings, list(self.manifest.variants), ort.get_available_providers()
        )
        self.session = open_session(
            bundle.variant_path(self.runtime.variant),
            providers=self.runtime.providers,
            intra_op_num_threads=settings.intra_op_num_threads,
        )
        session_inputs = {i.name for i in self.session.get_inputs()}
        missing = sorted({"input_ids", "attention_mask"} - session_inputs)
        if missing:
            raise ModelRegistryError(
                f"model {self.manifest.name}: ONNX graph lacks inputs {missing}"
            )
        self.input_names = session_inputs
        self.output_name = self.session.get_outputs()[0].name
        self.tokenizer = Tokenizer.from_file(str(bundle.tokenizer_path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.stats = EngineStats()
        LOGGER.info(
            "model %s %s loaded: variant %s on %s",
            self.manifest.name,
            self.manifest.version,
            self.runtime.variant,
            self.runtime.providers[0],
        )

    # -- tokenization -------------------------------------------------------
    def tokenize(self, text: str) -> TokenizedNote:
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        windows = plan_windows(
            len(encoding.ids),
            max_length=self.settings.max_length or self.manifest.max_length,
            stride=self.manifest.stride if self.settings.stride is None else self.settings.stride,
        )
        return TokenizedNote(
            ids=list(encoding.ids),
            offsets=[tuple(o) for o in encoding.offsets],
            word_ids=list(encoding.word_ids),
            windows=windows,
        )

    # -- inference ----------------------------------------------------------
    def _feed(self, rows: list[list[int]]) -> dict[str, np.ndarray]:
        special = self.manifest.special_tokens
        width = max(len(r) for r in rows) + 2
        input_ids = np.full((len(rows), width), special.pad, dtype=np.int64)
        attention = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            framed = [special.start, *row, special.end]
            input_ids[i, : len(framed)] = framed
            attention[i, : len(framed)] = 1
        self.stats.windows += len(rows)
        self.stats.real_tokens += int(attention.sum())
        self.stats.padded_tokens += int(attention.size)
        feed = {"input_ids": input_ids, "attention_mask": attention}
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        return feed

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        if not self.runtime.uses_cuda:
            return self.session.run([self.output_name], feed)[0]
        # IOBinding: inputs are copied to the GPU once, logits stay there until
        # copied back in one transfer.
        binding = self.session.io_binding()
        for name, array in feed.items():
            binding.bind_cpu_input(name, array)
        binding.bind_output(self.output_name, "cuda")
        self.session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]

    def _infer_rows(self, rows: list[list[int]]) -> list[np.ndarray]:
        """Logits for each row (without the start/end positions), batched by length."""
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        results: list[np.ndarray | None] = [None] * len(rows)
        size = 1 if self.settings.deterministic else self.settings.batch_size
        for begin in range(0, len(order), size):
            chunk = order[begin : begin + size]
            logits = self._run(self._feed([rows[i] for i in chunk]))
            for position, index in enumerate(chunk):
                n = len(rows[index])
                results[index] = logits[position, 1 : n + 1].astype(np.float32)
        return results  # type: ignore[return-value]

    def predict_entities(self, texts: Sequence[str]) -> list[list[Entity] | DocumentError]:
        """The model's entities in each text; a failing text gets a ``DocumentError``
        and fails alone."""
        outcomes: list[list[Entity] | DocumentError | None] = [None] * len(texts)
        tokenized: dict[int, TokenizedNote] = {}
        for index, text in enumerate(texts):
            try:
                tokenized[index] = self.tokenize(text)
            except Exception as exc:  # noqa: BLE001 - any tokenizer failure is this note's
                outcomes[index] = DocumentError(f"tokenize: {type(exc).__name__}")
        rows, owners = [], []
        for index, note in tokenized.items():
            for window_index, window in enumerate(note.windows):
                rows.append(note.ids[window.start : window.end])
                owners.append((index, window_index))
        try:
            logits = self._infer_rows(rows) if rows else []
        except Exception:  # noqa: BLE001 - retry note by note so only the culprit fails
            logits = None
        if logits is None:
            for index, note in tokenized.items():
                outcomes[index] = self._predict_alone(texts[index], note)
            return outcomes  # type: ignore[return-value]
        per_note: dict[int, list[np.ndarray]] = {i: [] for i in tokenized}
        for (index, _), window_logits in zip(owners, logits, strict=True):
            per_note[index].append(window_logits)
        for index, note in tokenized.items():
            try:
                outcomes[index] = self._decode(note, per_note[index], texts[index])
            except Exception as exc:  # noqa: BLE001
                outcomes[index] = DocumentError(f"decode: {type(exc).__name__}")
        return outcomes  # type: ignore[return-value]

    def _predict_alone(self, text: str, note: TokenizedNote) -> list[Entity] | DocumentError:
        try:
            rows = [note.ids[w.start : w.end] for w in note.windows]
            return self._decode(note, self._infer_rows(rows), text)
        except Exception as exc:  # noqa: BLE001
            return DocumentError(f"inference: {type(exc).__name__}")

    def _decode(
        self, note: TokenizedNote, window_logits: list[np.ndarray], note_text: str
    ) -> list[Entity]:
        """Entities with trimmed edges; each token's logits come from its most central window."""
        n = len(note.ids)
        if n == 0:
            return []
        n_labels = len(self.manifest.id2label)
        token_logits = np.zeros((n, n_labels), dtype=np.float32)
        for position, window_index in enumerate(most_central_window(note.windows, n)):
            window = note.windows[window_index]
            token_logits[position] = window_logits[window_index][position - window.start]
        words = words_from_tokens(
            softmax(token_logits),
            note.offsets,
            note.word_ids,
            self.manifest.id2label,
            entity_mass=self.entity_mass,
        )
        entities = []
        for entity in decode_entities(words, self.manifest.label_scheme):
            trimmed = trim_entity(entity, note_text)
            if trimmed is not None:
                entities.append(trimmed)
        return entities
