"""Contrastive training of the dual encoder (ReProver's recipe, with an InfoNCE loss): each example is
(state_before, one premise the tactic used); its negatives are every other candidate in the batch
(in-batch) plus `num_negatives` drawn for it, `num_in_file_negatives` of them from the positive's own file."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from proofsmith.dataset.schema import Pos, TheoremRecord
from proofsmith.retrieval.corpus import PremiseCorpus
from proofsmith.retrieval.encoder import Encoder


@dataclass(frozen=True)
class RetrievalExample:
    state: str
    file_path: str
    pos: Pos | None  # the theorem's start: where accessibility is judged
    positive: int  # premise id
    all_positives: frozenset[int]  # every premise the tactic used: never a negative


@dataclass
class TrainConfig:
    batch_size: int = 16
    lr: float = 3e-4
    weight_decay: float = 0.01
    epochs: float = 1.0
    max_steps: int | None = None
    max_minutes: float | None = None
    warmup_steps: int = 50
    num_negatives: int = 3
    num_in_file_negatives: int = 1
    temperature: float = 0.05
    seed: int = 0
    log_every: int = 10
    progress: bool = True


@dataclass
class TrainResult:
    steps: int
    seconds: float
    examples: int
    losses: list[float] = field(default_factory=list)
    stopped_by: str = "epochs"

    def to_json(self) -> dict:
        return asdict(self)


def tactic_queries(
    records: Iterable[TheoremRecord], corpus: PremiseCorpus
) -> list[tuple[str, str, Pos | None, list[int]]]:
    """(state_before, file_path, theorem start, located positive premise ids) for every tactic that
    uses at least one premise found in the corpus (ReProver skips tactics without premises)."""
    out = []
    for r in records:
        for t in r.traced_tactics:
            pos_ids = corpus.positives(t.premises)
            if pos_ids:
                out.append((t.state_before, r.file_path, r.start, pos_ids))
    return out


def build_examples(records: Iterable[TheoremRecord], corpus: PremiseCorpus) -> list[RetrievalExample]:
    out = []
    for state, path, pos, ids in tactic_queries(records, corpus):
        for i in ids:
            out.append(RetrievalExample(state, path, pos, i, frozenset(ids)))
    return out


class NegativeSampler:
    def __init__(self, corpus: PremiseCorpus, rng: random.Random):
        self.corpus, self.rng = corpus, rng

    def _pick(self, pool: np.ndarray, exclude: frozenset[int], n: int) -> list[int]:
        out: list[int] = []
        if len(pool) == 0:
            return out
        for _ in range(8 * n):
            if len(out) >= n:
                break
            c = int(pool[self.rng.randrange(len(pool))])
            if c not in exclude and c not in out:
                out.append(c)
        return out

    def sample(self, ex: RetrievalExample, num: int, num_in_file: int) -> list[int]:
        """Hard negatives from the positive's file that are accessible to the theorem, then random
        accessible premises; fewer if the corpus has too few."""
        lo, hi = self.corpus.ranges[self.corpus.file_of[ex.positive]]
        same_file = np.array(
            [i for i in range(lo, hi) if self.corpus.is_accessible(i, ex.file_path, ex.pos)], dtype=np.int64
        )
        neg = self._pick(same_file, ex.all_positives, num_in_file)
        if ex.file_path in self.corpus.ranges:
            pool = self.corpus.accessible_ids(ex.file_path, ex.pos)
        else:
            pool = np.arange(len(self.corpus))
        neg += self._pick(pool, ex.all_positives | frozenset(neg), num - len(neg))
        return neg


def contrastive_loss(
    q: torch.Tensor, cands: torch.Tensor, cand_ids: Sequence[int], batch: Sequence[RetrievalExample], temperature: float
) -> torch.Tensor:
    """InfoNCE over all candidates: row i's target is column i (its positive); columns holding another
    premise that row i's tactic also used are masked out, as they are not negatives."""
    logits = q @ cands.T / temperature
    ids = torch.tensor(list(cand_ids), device=q.device)
    for r, ex in enumerate(batch):
        others = [p for p in ex.all_positives if p != ex.positive]
        if others:
            false_neg = torch.isin(ids, torch.tensor(others, device=q.device))
            false_neg[r] = False
            logits[r] = logits[r].masked_fill(false_neg, float("-inf"))
    target = torch.arange(len(batch), device=q.device)
    return torch.nn.functional.cross_entropy(logits, target)


def train(
    encoder: Encoder,
    corpus: PremiseCorpus,
    examples: Sequence[RetrievalExample],
    cfg: TrainConfig,
    on_log: Callable[[int, float], None] | None = None,
) -> TrainResult:
    if not examples:
        raise ValueError("no training examples: no tactic uses a premise found in the corpus")
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    sampler = NegativeSampler(corpus, rng)
    texts = corpus.texts
    steps_per_epoch = math.ceil(len(examples) / cfg.batch_size)
    total = max(1, int(math.ceil(cfg.epochs * steps_per_epoch)))
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    opt = torch.optim.AdamW(encoder.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = min(cfg.warmup_steps, max(1, total // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up, then linear decay to 0 at `total`
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (total - s) / max(1, total - warm))
    )
    encoder.model.train()
    result = TrainResult(steps=0, seconds=0.0, examples=len(examples))
    t0 = time.monotonic()
    bar = None
    if cfg.progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="train-retriever", unit="step")
    order: list[int] = []
    running: list[float] = []
    while result.steps < total:
        if not order:
            order = list(range(len(examples)))
            rng.shuffle(order)
        batch = [examples[order.pop()] for _ in range(min(cfg.batch_size, len(order)))]
        cand_ids = [ex.positive for ex in batch]
        for ex in batch:
            cand_ids += sampler.sample(ex, cfg.num_negatives, cfg.num_in_file_negatives)
        q = encoder.forward([ex.state for ex in batch], queries=True)
        c = encoder.forward([texts[i] for i in cand_ids])
        loss = contrastive_loss(q, c, cand_ids, batch, cfg.temperature)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(encoder.model.parameters(), 1.0)
        opt.step()
        sched.step()
        result.steps += 1
        result.losses.append(float(loss.item()))
        running.append(float(loss.item()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{np.mean(running[-cfg.log_every :]):.3f}")
        if on_log is not None and result.steps % cfg.log_every == 0:
            on_log(result.steps, float(np.mean(running[-cfg.log_every :])))
        if cfg.max_minutes is not None and time.monotonic() - t0 > 60 * cfg.max_minutes:
            result.stopped_by = "time budget"
            break
    else:
        result.stopped_by = "max_steps" if cfg.max_steps is not None and total == cfg.max_steps else "epochs"
    if bar is not None:
        bar.close()
    encoder.model.eval()
    result.seconds = time.monotonic() - t0
    return result


def plot_losses(losses: Sequence[float], out_png: Path | str, window: int = 20) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_png)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(losses) + 1), losses, alpha=0.3, label="step loss")
    if len(losses) >= window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(range(window, len(losses) + 1), smooth, label=f"mean of {window}")
    ax.set_xlabel("step")
    ax.set_ylabel("contrastive loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def save_checkpoint(
    encoder: Encoder, out_dir: Path | str, cfg: TrainConfig, result: TrainResult, extra: dict | None = None
) -> Path:
    """HF-format model + tokenizer, `training.json` (config, result, provenance) and `loss_curve.png`."""
    out = encoder.save(out_dir)
    info = {"config": asdict(cfg), "result": result.to_json(), "base_model": encoder.model_id, **(extra or {})}
    (out / "training.json").write_text(json.dumps(info, indent=1))
    plot_losses(result.losses, out / "loss_curve.png")
    return out
