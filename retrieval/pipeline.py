"""The steps the CLI and the benchmark share: read a traced dataset, train, index, evaluate."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from proofsmith.dataset.loading import dataset_strategies, load_splits
from proofsmith.dataset.schema import TheoremRecord
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, SPLIT_STRATEGIES
from proofsmith.retrieval.bm25 import BM25Retriever
from proofsmith.retrieval.corpus import PremiseCorpus
from proofsmith.retrieval.dense import DenseRetriever
from proofsmith.retrieval.encoder import Encoder, SmallEncoderConfig, build_small_encoder
from proofsmith.retrieval.evaluate import RetrievalMetrics, evaluate, markdown_table, write_results
from proofsmith.retrieval.train import TrainConfig, TrainResult, build_examples, save_checkpoint, train

TRAIN_SPLITS = ("both", *ALL_SPLIT_STRATEGIES)


def train_strategies(data_dir: Path | str, split: str = "both") -> tuple[str, ...]:
    """The strategies whose train parts `split` draws on: itself, or for `both` every one the dataset has."""
    return dataset_strategies(Path(data_dir)) if split == "both" else (split,)


def training_records(data_dir: Path | str, split: str = "both") -> list[TheoremRecord]:
    """Training theorems. `both`: those in the train part of *every* strategy the dataset has
    (`random` and `novel_premises`, and `novel_packages` in a `proofsmith corpus` dataset), so one
    model can be evaluated on any of its test sets without having seen any of their theorems."""
    per = []
    for s in train_strategies(data_dir, split):
        train_part = load_splits(Path(data_dir), s).get("train")
        if train_part is None:
            raise FileNotFoundError(f"no {Path(data_dir) / s / 'train.json'} (a {s} split is not in this dataset)")
        per.append(train_part)
    keep = set.intersection(*({r.key for r in recs} for recs in per))
    return [r for r in per[0] if r.key in keep]


def train_retriever(
    data_dir: Path | str,
    out_dir: Path | str,
    model: str | None = None,
    split: str = "both",
    cfg: TrainConfig | None = None,
    small: SmallEncoderConfig | None = None,
    device: str | None = None,
    log=print,
) -> tuple[Path, TrainResult]:
    """Train from `model` (an HF name or path) or, when None, from a fresh small encoder whose
    tokenizer is fitted on the corpus and the training states. Writes an HF checkpoint to `out_dir`."""
    cfg = cfg or TrainConfig()
    corpus = PremiseCorpus.from_data_dir(data_dir)
    records = training_records(data_dir, split)
    strategies = train_strategies(data_dir, split)
    examples = build_examples(records, corpus)
    out = Path(out_dir)
    if model is None:
        small = small or SmallEncoderConfig()
        texts = corpus.texts + [t.state_before for r in records for t in r.traced_tactics]
        init = build_small_encoder(texts, out / "init", small, seed=cfg.seed)
        log(f"built a small encoder ({asdict(small)}) at {init}")
        model = str(init)
    encoder = Encoder(model, device=device, max_len=small.max_len if small else None)
    log(
        f"training on {len(examples)} (state, premise) pairs from {len(records)} theorems ({'+'.join(strategies)} train), "
        f"{len(corpus)} premises, device {encoder.device}"
    )
    result = train(encoder, corpus, examples, cfg)
    save_checkpoint(
        encoder,
        out,
        cfg,
        result,
        extra={
            "data": str(Path(data_dir).resolve()),
            "train_split": split,
            "train_strategies": list(strategies),
            "small_encoder_config": asdict(small) if small else None,
        },
    )
    log(
        f"{result.steps} steps in {result.seconds:.0f}s (stopped by {result.stopped_by}); "
        f"loss {result.losses[0]:.3f} -> {sum(result.losses[-20:]) / len(result.losses[-20:]):.3f}; saved {out}"
    )
    return out, result


def build_index(
    corpus_path: Path | str,
    model: str,
    out_dir: Path | str,
    kind: str = "auto",
    flat_threshold: int | None = None,
    device: str | None = None,
    batch_size: int = 64,
    progress: bool = True,
) -> tuple[DenseRetriever, float]:
    corpus = PremiseCorpus.from_jsonl(corpus_path)
    encoder = Encoder(model, device=device)
    t0 = time.monotonic()
    kw = {"flat_threshold": flat_threshold} if flat_threshold is not None else {}
    dense = DenseRetriever.build(encoder, corpus, kind=kind, batch_size=batch_size, progress=progress, **kw)
    seconds = time.monotonic() - t0
    dense.save(out_dir, corpus_path=corpus_path)
    return dense, seconds


def evaluate_all(
    data_dir: Path | str,
    dense: DenseRetriever | None = None,
    bm25: bool = True,
    splits: Sequence[str] = SPLIT_STRATEGIES,
    part: str = "test",
    k: int = 100,
    corpus: PremiseCorpus | None = None,
) -> dict[str, dict[str, RetrievalMetrics]]:
    corpus = corpus or (dense.corpus if dense is not None else PremiseCorpus.from_data_dir(data_dir))
    retrievers: dict = {}
    if bm25:
        retrievers["bm25"] = BM25Retriever(corpus)
    if dense is not None:
        retrievers["dense"] = dense
    results: dict[str, dict[str, RetrievalMetrics]] = {name: {} for name in retrievers}
    for split in splits:
        records = load_splits(Path(data_dir), split).get(part, [])
        for name, r in retrievers.items():
            results[name][split] = evaluate(r, corpus, records, k=k)
    return results


def report(
    results: dict[str, dict[str, RetrievalMetrics]],
    out_json: Path | str | None = None,
    out_md: Path | str | None = None,
    extra: dict | None = None,
) -> str:
    table = markdown_table(results)
    if out_json is not None:
        write_results(results, out_json, extra)
    if out_md is not None:
        Path(out_md).parent.mkdir(parents=True, exist_ok=True)
        Path(out_md).write_text(table + "\n")
    return table


def load_dense(
    index_dir: Path | str, corpus_path: Path | str | None = None, device: str | None = None, strategy: str = "overfetch"
) -> DenseRetriever:
    corpus = PremiseCorpus.from_jsonl(corpus_path) if corpus_path else None
    return DenseRetriever.load(index_dir, corpus=corpus, device=device, strategy=strategy)


def read_json(path: Path | str) -> dict:
    return json.loads(Path(path).read_text())
