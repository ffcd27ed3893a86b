"""`proofsmith eval-retriever --data DIR [--index INDEX | --model CKPT]`: R@1, R@10, MRR of BM25 and
dense retrieval on the random and novel_premises test splits (and novel_packages, in a `proofsmith corpus`
dataset), one table (markdown + JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import (
    UsageError,
    dataset_with_strategies,
    dense_index,
    existing_dir,
    model_path,
    output_file,
    positive,
)
from proofsmith.cli.options import add_split_strategies
from proofsmith.dataset.loading import dataset_strategies
from proofsmith.retrieval.dense import STRATEGIES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="a traced dataset directory")
    dense = p.add_mutually_exclusive_group()
    dense.add_argument("--index", type=Path, help="a dense index from `proofsmith index`")
    dense.add_argument("--model", default=None, help="an encoder checkpoint: its index is built in memory")
    p.add_argument("--no-bm25", action="store_true", help="leave the BM25 baseline out")
    add_split_strategies(p)
    p.add_argument("--part", choices=("train", "val", "test"), default="test")
    p.add_argument("-k", type=int, default=100, help="retrieved list length for MRR")
    p.add_argument("--strategy", choices=STRATEGIES, default="overfetch")
    p.add_argument("--device", default=None)
    p.add_argument("--json", type=Path, default=None, help="write the metrics as JSON here")
    p.add_argument("--markdown", type=Path, default=None, help="write the table as markdown here")


def run(args: argparse.Namespace) -> int:
    from proofsmith.retrieval.corpus import PremiseCorpus
    from proofsmith.retrieval.dense import DenseRetriever
    from proofsmith.retrieval.encoder import Encoder
    from proofsmith.retrieval.pipeline import evaluate_all, load_dense, report

    # Everything is checked before a model loads.
    splits = args.splits or dataset_strategies(existing_dir(args.data, "--data"))
    need = ["corpus.jsonl", *(f"{s}/{args.part}.json" for s in splits)]
    dataset_with_strategies(args.data, "--data", splits, "--splits", need)
    corpus_path = args.data / "corpus.jsonl"
    positive(args.k, "-k")
    if args.index is not None:
        dense_index(args.index, "--index", corpus_given=True)
    model = model_path(args.model, "--model") if args.model is not None else None
    if args.index is None and model is None and args.no_bm25:
        raise UsageError("nothing to evaluate: give --index or --model, or keep BM25")
    for out, what in ((args.json, "--json"), (args.markdown, "--markdown")):
        if out is not None:
            output_file(out, what)
    corpus = PremiseCorpus.from_jsonl(corpus_path)
    dense = None
    if args.index is not None:
        try:
            dense = load_dense(args.index, corpus_path, device=args.device, strategy=args.strategy)
        except ValueError as e:  # built from another corpus
            raise UsageError(f"--index {args.index}: {e}") from None
        corpus = dense.corpus
    elif model is not None:
        dense = DenseRetriever.build(Encoder(model, device=args.device), corpus, strategy=args.strategy)
    results = evaluate_all(
        args.data, dense=dense, bm25=not args.no_bm25, splits=splits, part=args.part, k=args.k, corpus=corpus
    )
    table = report(
        results,
        args.json,
        args.markdown,
        extra={
            "data": str(args.data.resolve()),
            "part": args.part,
            "k": args.k,
            "dense_model": dense.encoder.model_id if dense else None,
        },
    )
    print(table)
    return 0
