"""`proofsmith index --data DIR --model CKPT --out INDEX`: embed every premise, build and save a FAISS index."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import corpus_file, model_path, output_dir, positive
from proofsmith.retrieval.faiss_index import DEFAULT_FLAT_THRESHOLD, INDEX_KINDS


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="a traced dataset directory (its corpus.jsonl is indexed)")
    src.add_argument("--corpus", type=Path, help="a corpus.jsonl file")
    p.add_argument("--model", required=True, help="encoder: a checkpoint from train-retriever, or any HF name/path")
    p.add_argument("--out", type=Path, required=True, help="index directory to write")
    p.add_argument(
        "--kind",
        choices=INDEX_KINDS,
        default="auto",
        help="auto: exact IndexFlatIP up to --flat-threshold premises, HNSW above",
    )
    p.add_argument("--flat-threshold", type=int, default=DEFAULT_FLAT_THRESHOLD)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from proofsmith.retrieval.pipeline import build_index

    corpus = corpus_file(args.corpus, "--corpus") if args.corpus else corpus_file(args.data, "--data")
    model = model_path(args.model, "--model")
    output_dir(args.out, "--out")
    positive(args.batch_size, "--batch-size")
    positive(args.flat_threshold, "--flat-threshold")
    dense, seconds = build_index(
        corpus,
        model,
        args.out,
        kind=args.kind,
        flat_threshold=args.flat_threshold,
        device=args.device,
        batch_size=args.batch_size,
        progress=not args.quiet,
    )
    m = dense.index.meta
    print(f"indexed {m.num} premises (dim {m.dim}, {m.kind}) with {m.model_id} in {seconds:.1f}s -> {args.out}")
    return 0
