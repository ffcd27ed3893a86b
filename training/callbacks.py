"""Trainer callbacks: loss log (JSONL), a wall-clock budget per stage, and the loss-curve PNG."""

from __future__ import annotations

import json
import time
from pathlib import Path

from transformers import TrainerCallback


class LossLog(TrainerCallback):
    def __init__(self, path: Path, stage: str):
        self.path = Path(path)
        self.stage = stage

    def on_log(self, args, state, control, logs=None, **kw):
        if not logs or not any(k in logs for k in ("loss", "eval_loss")):
            return
        row = {
            "stage": self.stage,
            "step": state.global_step,
            "time": round(time.time(), 1),
            **{k: v for k, v in logs.items() if k in ("loss", "eval_loss", "learning_rate", "epoch")},
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")


class TimeBudget(TrainerCallback):
    """Stop (and checkpoint) once a stage has run for `minutes`; None means no limit."""

    def __init__(self, minutes: float | None):
        self.seconds = None if minutes is None else minutes * 60
        self.start = time.time()

    def on_train_begin(self, args, state, control, **kw):
        self.start = time.time()

    def on_step_end(self, args, state, control, **kw):
        if self.seconds is not None and time.time() - self.start > self.seconds:
            control.should_training_stop = True
            control.should_save = True
        return control


def read_log(path: Path) -> list[dict]:
    if not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot_losses(log: Path, png: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_log(log)
    if not rows:
        return None
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    fig, axes = plt.subplots(1, len(stages), figsize=(5 * len(stages), 3.5), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        for key, style in (("loss", "-"), ("eval_loss", "o--")):
            pts = [(r["step"], r[key]) for r in rows if r["stage"] == stage and key in r]
            if pts:
                ax.plot(*zip(*pts), style, label=key)
        ax.set_title(stage)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
    return Path(png)
