"""Training options and progress hooks, apart from train.py so the CLI can read
defaults for `--help` without importing torch."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from autotosis.core.hardware import cores
from autotosis.core.paths import LABELS_DIR, MODELS_DIR

# What a clip's frames say about a label its file does not name (dataset.label_targets).
NEGATIVES = ("others", "all", "none")


@dataclass
class TrainConfig:
    """Every training default, written once; the CLI options read these."""

    labels_dir: Path = LABELS_DIR
    out: Path | None = None  # None: models/<label>.pt (<a>+<b>.pt for several labels)
    label: str | None = None  # None: every reaction with a positive segment, one head each
    negatives: str = "others"  # for a label a clip does not name: others | all | none (learn/dataset.py)
    fps: float = 4.0  # 4 samples/s: reactions last seconds, neighbouring frames add little
    size: int = 128  # 128 px face-cams keep expressions readable and CPU training in minutes
    edge_guard: float = 0.25  # hand-placed segment edges are a few hundred ms off
    val_fraction: float = 0.2  # a fifth of the clips: enough to rank epochs, most left to learn
    seed: int = 0  # same split and same run every time unless asked otherwise
    epochs: int = 10  # upper bound; early stopping usually ends sooner
    patience: int = 3  # epochs without a better validation AP (or loss) before stopping, late in the run
    batch_size: int = 32  # small batches step often; 32 keeps BatchNorm statistics sane
    lr: float = 1e-3  # AdamW's usual rate for a ResNet trained from scratch
    weight_decay: float = 0.05  # decoupled decay: the regulariser AdamW is designed for
    optimizer: str = "adamw"  # adamw converges fast from scratch; sgd (momentum 0.9) also offered
    warmup_steps: int = 50  # linear warm-up, then cosine decay to zero over the run
    weights: str | None = None  # None: from scratch (works offline); "imagenet" or a state-dict path
    cpu: bool = False  # default: CUDA when present
    precision: str = "auto"  # bf16 where the CPU/GPU does it natively (about 2x faster), else fp32
    threads: int = field(default_factory=cores)  # every core: the network is the only work
    resume: bool = False  # continue an interrupted run from <out>.state.pt
    cache: Path | None = None  # None: paths.cache_dir()
    # Quick retraining (learn/warm.py): after a round of answers the labels have only grown,
    # so the model starts from `out`'s weights and learns the new frames plus a replay of old ones.
    start: str = "auto"  # auto: warm start when the labels only grew since `out`; scratch: start over
    init_from: Path | None = None  # --from: warm start from this checkpoint whatever the labels say
    warm_epochs: int = 2  # the loaded model knows the streamer: two passes learn a round of answers
    warm_lr: float = 3e-4  # under a third of the scratch peak: learns new frames, keeps the old
    warm_warmup_steps: int = 5  # a fresh optimiser knows no gradient scale yet: a few ramped steps first
    replay: float = 1.0  # old frames replayed per new frame: each batch is about half old, half new
    replay_min: int = 256  # a round of a few answers still replays enough to keep every old kind of frame

    def resolved_out(self, label: str) -> Path:
        return self.out if self.out is not None else MODELS_DIR / f"{label}.pt"

    def to_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()}


class TrainEvents:
    """Progress hooks; the CLI overrides them with bars. The library never prints."""

    def extract(self, done: int, total: int, name: str) -> None: ...
    def start(self, line: str) -> None: ...  # where training starts from, and why (one line)
    def warn(self, message: str) -> None: ...
    def epoch_start(self, epoch: int, epochs: int, steps: int) -> None: ...
    def step(self, loss: float, images_per_s: float) -> None: ...
    def epoch_end(self, record: dict) -> None: ...
