"""`autotosis train`: labeled clips -> face-cam classifier in models/.

Defaults come from TrainConfig (a torch-free module); torch is imported only when the
command runs, so `autotosis --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from progress.bar import Bar

from autotosis.core.errors import ModelError
from autotosis.core.hardware import PRECISIONS
from autotosis.learn.trainconfig import NEGATIVES, TrainConfig, TrainEvents

D = TrainConfig()


class TrainBars(TrainEvents):
    """One bar for extraction, one per epoch with loss and throughput."""

    def __init__(self) -> None:
        self.bar: Bar | None = None

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None

    def extract(self, done: int, total: int, name: str) -> None:
        if done == 0:
            self.bar = Bar("crops", max=total, suffix="%(index)d/%(max)d clips or spans %(elapsed)ds",
                           file=sys.stderr)
        if self.bar is not None:
            self.bar.goto(done)
        if done == total:
            self._close()

    def start(self, line: str) -> None:
        self._close()
        click.echo(line, err=True)

    def warn(self, message: str) -> None:
        self._close()
        click.echo(f"Warning: {message}", err=True)

    def epoch_start(self, epoch: int, epochs: int, steps: int) -> None:
        self.bar = Bar(f"epoch {epoch}/{epochs}", max=steps, file=sys.stderr,
                       suffix="%(index)d/%(max)d loss %(loss).3f %(ips).0f img/s %(eta)ds left")
        self.bar.loss, self.bar.ips = float("nan"), 0.0

    def step(self, loss: float, images_per_s: float) -> None:
        if self.bar is not None:
            self.bar.loss, self.bar.ips = loss, images_per_s
            self.bar.next()

    def epoch_end(self, record: dict) -> None:
        self._close()
        ap = record.get("ap")
        click.echo(
            f"  train loss {record['train_loss']:.3f}  val loss {record['val_loss']:.3f}  "
            f"AP {ap if ap is None else round(ap, 3)}  acc {record['accuracy']:.3f}  "
            f"{record['images_per_s']:.0f} img/s" + ("  (best so far)" if record["best"] else ""),
            err=True,
        )


@click.command()
@click.option("--labels-dir", type=click.Path(path_type=Path), default=D.labels_dir, show_default=True,
              help="Where the label files live.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Model file to write (default: models/<label>.pt); metrics and plot go beside it.")
@click.option("--label", "label_name", default=None,
              help="Learn this reaction only (default: every label with a positive segment, "
                   "one head each on one backbone).")
@click.option("--negatives", type=click.Choice(NEGATIVES), default=D.negatives, show_default=True,
              help="For a label a clip's file does not name: others = the clip's other labels' "
                   "segments are negatives; all = the whole clip is; none = the clip is left out.")
@click.option("--cpu", is_flag=True, help="Train on the CPU even when a GPU is present.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=D.precision, show_default=True,
              help="Model arithmetic: auto is bf16 where the CPU/GPU has it (about 2x faster), else fp32.")
@click.option("--epochs", type=click.IntRange(1), default=D.epochs, show_default=True,
              help="Most epochs; early stopping may end sooner.")
@click.option("--patience", type=click.IntRange(1), default=D.patience, show_default=True,
              help="Stop after this many epochs without a better validation AP or loss "
                   "(in the second half of the run).")
@click.option("--batch-size", type=click.IntRange(2), default=D.batch_size, show_default=True)
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=D.lr, show_default=True,
              help="Peak learning rate (warm-up, then cosine decay).")
@click.option("--optimizer", type=click.Choice(["adamw", "sgd"]), default=D.optimizer, show_default=True)
@click.option("--size", type=click.IntRange(32, 512), default=D.size, show_default=True,
              help="Square crop size in pixels.")
@click.option("--fps", type=click.FloatRange(0, min_open=True), default=D.fps, show_default=True,
              help="Frames sampled per second of clip.")
@click.option("--edge-guard", type=click.FloatRange(0), default=D.edge_guard, show_default=True,
              help="Drop frames this many seconds either side of a segment edge.")
@click.option("--val-fraction", type=click.FloatRange(0, 1, max_open=True), default=D.val_fraction,
              show_default=True, help="Share of clips (not frames) held out for validation.")
@click.option("--seed", type=int, default=D.seed, show_default=True, help="Split and training seed.")
@click.option("--threads", type=click.IntRange(1), default=D.threads, show_default=True,
              help="CPU threads for torch.")
@click.option("--weights", default=None,
              help="Start from 'imagenet' (downloads once) or a local resnet18 state-dict file "
                   "(default: from scratch).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run with the same --out.")
@click.option("--scratch", is_flag=True,
              help="Start over, even when the labels only grew since the model was trained.")
@click.option("--from", "init_from", type=click.Path(path_type=Path), default=None,
              help="Start from this checkpoint (a quick retrain), whatever the labels say.")
@click.option("--warm-epochs", type=click.IntRange(1), default=D.warm_epochs, show_default=True,
              help="Epochs of a warm start (new frames plus a replay of old ones).")
def train(labels_dir: Path, out: Path | None, label_name: str | None, negatives: str, cpu: bool,
          precision: str, epochs: int,
          patience: int,
          batch_size: int, lr: float, optimizer: str, size: int, fps: float, edge_guard: float,
          val_fraction: float, seed: int, threads: int, weights: str | None, resume: bool, scratch: bool,
          init_from: Path | None, warm_epochs: int) -> None:
    """Train the reaction classifier on face-cam crops of the labeled clips.

    When the labels only grew since the model at --out was trained (a round of answers),
    it starts from that model and learns the new spans plus a replay of old frames: a
    quick retrain, said in one line. Any other change trains from scratch and says why.

    \b
    autotosis train --cpu
    autotosis train --epochs 20 --weights imagenet
    autotosis train --scratch
    """
    from autotosis.learn import train as train_lib

    if init_from is not None and (scratch or resume):
        raise click.UsageError("--from starts from a checkpoint: not with --scratch or --resume")
    if weights is not None and weights.lower() in ("none", "scratch"):
        weights = None
    cfg = TrainConfig(labels_dir=labels_dir, out=out, label=label_name, negatives=negatives, fps=fps,
                      size=size,
                      edge_guard=edge_guard, val_fraction=val_fraction, seed=seed, epochs=epochs,
                      patience=patience, batch_size=batch_size, lr=lr, optimizer=optimizer,
                      weights=weights, cpu=cpu, precision=precision, threads=threads, resume=resume,
                      start="scratch" if scratch else "auto", init_from=init_from, warm_epochs=warm_epochs)
    try:
        result = train_lib.train(cfg, TrainBars())
    except ModelError as exc:
        offline = weights == "imagenet" and "cannot download" in str(exc)
        if not (offline and sys.stdin.isatty() and click.confirm(f"{exc}\nTrain from scratch instead?")):
            raise
        cfg.weights = None
        result = train_lib.train(cfg, TrainBars())
    best = result.best
    click.echo(f"model:   {result.model_path}")
    click.echo(f"metrics: {result.metrics_path}")
    click.echo(f"plot:    {result.plot_path}")
    per_label = best.get("labels") or {}
    if len(per_label) > 1:
        click.echo(f"best epoch {best['epoch']} ({result.wall_seconds:.0f}s):")
        for name, m in per_label.items():
            click.echo(f"  {name:<10} val AP {_ap(m)}, accuracy {m['accuracy']:.3f}, "
                       f"threshold {m['threshold']:.3f}")
        return
    click.echo(f"best epoch {best['epoch']}: val AP {_ap(best)}, accuracy {best['accuracy']:.3f}, "
               f"threshold {best['threshold']:.3f} ({result.wall_seconds:.0f}s)")


def _ap(metrics: dict) -> str:
    return "n/a" if metrics.get("ap") is None else f"{metrics['ap']:.3f}"
