"""ResNet-18 face-cam classifier: build, save and load checkpoints, predict on uint8 crops.

A checkpoint is a plain dict of tensors and plain values so `torch.load(weights_only=True)`
can read it without running any pickled code; it carries everything compile needs
(input size, normalisation, face-cam box, sampling fps, decision threshold).
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from autotosis.core.errors import ModelError
from autotosis.core.fsutil import atomic_write_bytes
from autotosis.core.hardware import PRECISIONS, auto_precision

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ARCHS = ("resnet18",)
CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class ModelMeta:
    """What a checkpoint says about how its model was trained and should be used."""

    arch: str = "resnet18"
    size: int = 128
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    label: str = "rage"  # the first head's label (the only one in a one-label model)
    facecam: tuple[float, float, float, float] | None = None  # default box (median of training labels)
    fps: float = 4.0  # sampling fps used in training; compile's default
    threshold: float = 0.5  # validation-chosen (max-F1) decision threshold of the first head
    metrics: dict = field(default_factory=dict)  # final validation metrics
    config: dict = field(default_factory=dict)  # resolved training options
    labels: tuple[str, ...] = ()  # one head per label, in output order; () in one-label checkpoints
    thresholds: dict = field(default_factory=dict)  # label -> its validation threshold

    @property
    def heads(self) -> tuple[str, ...]:
        """The labels the model scores, one output each (old checkpoints: just `label`)."""
        return self.labels or (self.label,)

    def threshold_for(self, label: str) -> float:
        return float(self.thresholds.get(label, self.threshold if label == self.label else 0.5))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["mean"], out["std"] = list(self.mean), list(self.std)
        out["facecam"] = list(self.facecam) if self.facecam is not None else None
        out["labels"] = list(self.labels)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMeta:
        """Rebuild from a checkpoint's plain dict; unknown keys are ignored (newer writers)."""
        names = {f.name for f in dataclasses.fields(cls)}
        kept = {k: v for k, v in data.items() if k in names}
        for key in ("mean", "std"):
            if key in kept:
                kept[key] = tuple(float(v) for v in kept[key])
        if kept.get("facecam") is not None:
            kept["facecam"] = tuple(float(v) for v in kept["facecam"])
        if "labels" in kept:
            kept["labels"] = tuple(str(v) for v in kept["labels"])
        return cls(**kept)


def _head(model: nn.Module, heads: int) -> None:
    """One logit per label: P(label) = sigmoid(logit), independent labels (a frame may be
    rage and laughter at once), and every label from one forward pass of the backbone."""
    head = model.fc
    assert isinstance(head, nn.Linear)
    model.fc = nn.Linear(head.in_features, heads)


def build_model(arch: str = "resnet18", weights: str | None = None, heads: int = 1) -> nn.Module:
    """A ResNet with `heads` logits (one per label).

    `weights` is None (random init), "imagenet" (torchvision's own download, cached under
    ~/.cache/torch) or the path of a local state dict of a torchvision resnet18 (with
    the 1000-class head or one of ours). The head is freshly initialised unless the file
    already has one of this shape.
    """
    import torchvision

    if arch not in ARCHS:
        raise ModelError(f"unknown architecture {arch!r} (known: {', '.join(ARCHS)})")
    model = torchvision.models.resnet18(weights=None)
    if weights == "imagenet":
        try:
            state = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
        except Exception as exc:  # URLError, socket errors, HTTP errors: all mean "no download"
            raise ModelError(
                f"cannot download ImageNet weights ({type(exc).__name__}: {exc}); "
                "pass --weights PATH to a local resnet18 state dict, or --weights none to train from scratch"
            ) from None
        model.load_state_dict(state)
        _head(model, heads)
        return model
    _head(model, heads)
    if weights is not None:
        state = _read_state_file(Path(weights))
        head = state.get("fc.weight")
        if head is not None and tuple(head.shape) != (heads, model.fc.in_features):
            state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        own = model.state_dict()
        missing = [k for k in own if k not in state and not k.startswith("fc.")]
        wrong = [k for k, v in state.items() if k not in own or tuple(v.shape) != tuple(own[k].shape)]
        if missing or wrong:
            raise ModelError(
                f"{weights}: not a {arch} state dict "
                f"({len(missing)} missing, {len(wrong)} unexpected or misshapen keys, e.g. "
                f"{(missing or wrong)[0]})"
            )
        model.load_state_dict(state, strict=False)
    return model


# What torch.load's long messages mean for a user, checked in order.
_LOAD_ERRORS = (
    ("invalid load key", "not a PyTorch checkpoint"),
    ("central directory", "truncated or damaged (incomplete zip archive)"),
    ("PytorchStreamReader", "truncated or damaged"),
    ("Unsupported operand", "not a PyTorch checkpoint; refused without running it (weights-only loading)"),
    ("Weights only load failed", "holds code or objects other than tensors and plain values; "
                                 "refused without running it (weights-only loading)"),
)


def read_checkpoint(path: Path | str) -> bytes:
    """A checkpoint file's bytes, read once: whoever needs its metadata and its weights
    gets both from the same version even if training replaces the file meanwhile."""
    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: no such checkpoint")
    if p.is_dir():
        raise ModelError(f"{p}: is a directory, expected a checkpoint file")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise ModelError(f"{p}: cannot read ({exc.strerror})") from None


def _torch_load(path: Path, data: bytes | None = None) -> Any:
    """torch.load with weights_only=True (a malicious pickle is refused, never run), every
    failure as a one-line ModelError naming `path`. `data`: the file's bytes, already read."""
    if data is None:
        data = read_checkpoint(path)
    if not data:
        raise ModelError(f"{path}: checkpoint is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pickle-protocol notes would break the one-line error
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc).strip()
        reason = next((meaning for needle, meaning in _LOAD_ERRORS if needle in text), None)
        if reason is None:
            reason = text.splitlines()[0][:160] if text else type(exc).__name__
        raise ModelError(f"{path}: not a readable checkpoint ({reason})") from None


def _read_state_file(path: Path) -> dict[str, torch.Tensor]:
    """A bare state dict, or the `state_dict` inside one of our checkpoints."""
    data = _torch_load(path)
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ModelError(f"{path}: not a state dict of tensors")
    return data


def save_checkpoint(path: Path | str, model: nn.Module, meta: ModelMeta, extra: dict | None = None) -> None:
    """Write weights + metadata atomically, so a crash or Ctrl-C never leaves half a model."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = {"format": CHECKPOINT_FORMAT, "meta": meta.to_dict(), "state_dict": state,
               "extra": extra or {}}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(
    path: Path | str, data: bytes | None = None,
) -> tuple[dict[str, torch.Tensor], ModelMeta, dict]:
    """(state_dict, meta, extra) of one of our checkpoints; ModelError if it is anything else.

    `data` is the file's content when the caller has read it already (scan hashes and
    loads the same bytes, so a model replaced meanwhile cannot mix two versions).
    """
    p = Path(path)
    data = _torch_load(p, data)
    if not isinstance(data, dict) or "meta" not in data or "state_dict" not in data:
        raise ModelError(f"{p}: not an autotosis checkpoint (no metadata)")
    if data.get("format", 0) > CHECKPOINT_FORMAT:
        raise ModelError(f"{p}: written by a newer autotosis (format {data['format']}); upgrade to load it")
    try:
        meta = ModelMeta.from_dict(data["meta"])
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{p}: metadata is malformed ({exc})") from None
    if meta.arch not in ARCHS:
        raise ModelError(f"{p}: architecture {meta.arch!r} is not supported (known: {', '.join(ARCHS)})")
    if not 16 <= int(meta.size) <= 1024 or len(meta.mean) != 3 or len(meta.std) != 3:
        raise ModelError(f"{p}: metadata does not fit a 3-channel image model (size {meta.size})")
    return data["state_dict"], meta, data.get("extra") or {}


def inference_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `precision` on `device`; None means plain fp32.

    "auto": bf16 (or fp16 where bf16 is missing) on a GPU, bf16 on a CPU that has it,
    else fp32. A sigmoid score moves by well under 0.01 between them (tests check).
    """
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r} (use {', '.join(PRECISIONS)})")
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        if device.type != "cuda":
            raise ModelError("fp16 inference needs a GPU; use bf16 or fp32 on the CPU")
        return torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if auto_precision("cpu") == "bf16" else None


class Classifier:
    """A loaded model ready for inference on uint8 crops at `meta.size`."""

    def __init__(self, model: nn.Module, meta: ModelMeta, device: torch.device, batch_size: int = 64,
                 amp_dtype: torch.dtype | None = None):
        self.model = model.eval().to(device).to(memory_format=torch.channels_last)
        self.meta = meta
        self.device = device
        self.batch_size = batch_size
        self.amp_dtype = amp_dtype
        shape = (1, 3, 1, 1)
        self._mean = torch.tensor(meta.mean, device=device).view(shape) * 255.0
        self._std = torch.tensor(meta.std, device=device).view(shape) * 255.0

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.amp_dtype]

    @property
    def labels(self) -> tuple[str, ...]:
        return self.meta.heads

    def predict(self, images: np.ndarray, label: str | None = None) -> np.ndarray:
        """P(label) per image (float32, shape (N,)); default: the first head's label."""
        column = self.labels.index(label) if label is not None else 0
        return self.predict_all(images)[:, column]

    def predict_all(self, images: np.ndarray) -> np.ndarray:
        """P(label) per image and label (float32, shape (N, len(labels))) for uint8
        (N, H, W, 3) RGB crops: one forward pass scores every label."""
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ModelError(f"expected images shaped (N, H, W, 3), got {tuple(images.shape)}")
        if images.shape[1:3] != (self.meta.size, self.meta.size):
            raise ModelError(
                f"images are {images.shape[2]}x{images.shape[1]} but the model expects "
                f"{self.meta.size}x{self.meta.size}"
            )
        out = np.empty((len(images), len(self.labels)), dtype=np.float32)
        autocast = torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                                  enabled=self.amp_dtype is not None)
        with torch.inference_mode(), autocast:
            for start in range(0, len(images), self.batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(images[start:start + self.batch_size]))
                x = chunk.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
                x = ((x - self._mean) / self._std).contiguous(memory_format=torch.channels_last)
                logits = self.model(x).float().view(len(chunk), -1)
                out[start:start + len(chunk)] = torch.sigmoid(logits).cpu().numpy()
        return out


def load_classifier(path: Path | str, device: str = "cpu", data: bytes | None = None,
                    precision: str = "auto") -> Classifier:
    """Load a checkpoint for inference; ModelError with one line for anything unusable."""
    state, meta, _ = load_checkpoint(path, data)
    model = build_model(meta.arch, heads=len(meta.heads))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        lines = str(exc).strip().splitlines()
        reason = lines[1].strip() if len(lines) > 1 else lines[0]
        raise ModelError(f"{path}: weights do not fit {meta.arch} ({reason[:160]})") from None
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ModelError(f"bad device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError("CUDA was asked for but no GPU is available; use --device cpu")
    return Classifier(model, meta, dev, amp_dtype=inference_dtype(precision, dev))
