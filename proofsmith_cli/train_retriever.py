"""`proofsmith train-retriever --data DIR --out CKPT`: contrastive training of the dense premise encoder."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import dataset_with_strategies, model_path, output_dir, positive
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, NOVEL_PACKAGES
from proofsmith.retrieval.encoder import SmallEncoderConfig
from proofsmith.retrieval.train import TrainConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    d, s = TrainConfig(), SmallEncoderConfig()
    p.add_argument(
        "--data", type=Path, required=True, help="a traced dataset directory (proofsmith trace or corpus --out)"
    )
    p.add_argument("--out", type=Path, required=True, help="checkpoint directory (HF format)")
    p.add_argument(
        "--model",
        default=None,
        help="HF encoder name or path to start from (default: a fresh small encoder, see docs/retrieval.md)",
    )
    p.add_argument(
        "--split",
        choices=("both", *ALL_SPLIT_STRATEGIES),
        default="both",
        help="train part to use; both: theorems in the train part of every strategy the dataset has (random "
        f"and novel_premises, and {NOVEL_PACKAGES} in a `proofsmith corpus` dataset), so the model can be "
        f"evaluated on any of its test parts; {NOVEL_PACKAGES} needs a `proofsmith corpus` dataset",
    )
    p.add_argument("--epochs", type=float, default=d.epochs)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this much training time")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--num-negatives", type=int, default=d.num_negatives)
    p.add_argument("--num-in-file-negatives", type=int, default=d.num_in_file_negatives)
    p.add_argument("--temperature", type=float, default=d.temperature)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    g = p.add_argument_group("small encoder (when --model is not given)")
    g.add_argument("--hidden-size", type=int, default=s.hidden_size)
    g.add_argument("--layers", type=int, default=s.num_hidden_layers)
    g.add_argument("--heads", type=int, default=s.num_attention_heads)
    g.add_argument("--vocab-size", type=int, default=s.vocab_size)
    g.add_argument("--max-len", type=int, default=s.max_len)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from proofsmith.retrieval.pipeline import train_retriever, train_strategies

    # Everything is checked before a model loads or anything is written.
    strategies = train_strategies(args.data, args.split)
    need = ["corpus.jsonl", *(f"{s}/train.json" for s in strategies)]
    dataset_with_strategies(args.data, "--data", strategies, "--split", need)
    model = model_path(args.model, "--model") if args.model is not None else None
    output_dir(args.out, "--out")
    for value, what in (
        (args.epochs, "--epochs"),
        (args.max_steps, "--max-steps"),
        (args.max_minutes, "--max-minutes"),
        (args.batch_size, "--batch-size"),
        (args.lr, "--lr"),
        (args.temperature, "--temperature"),
    ):
        positive(value, what)
    cfg = TrainConfig(
        batch_size=args.batch_size,
        lr=args.lr,
        epochs=args.epochs,
        max_steps=args.max_steps,
        max_minutes=args.max_minutes,
        num_negatives=args.num_negatives,
        num_in_file_negatives=args.num_in_file_negatives,
        temperature=args.temperature,
        seed=args.seed,
        progress=not args.quiet,
    )
    small = None
    if args.model is None:
        small = SmallEncoderConfig(
            vocab_size=args.vocab_size,
            hidden_size=args.hidden_size,
            num_hidden_layers=args.layers,
            num_attention_heads=args.heads,
            intermediate_size=4 * args.hidden_size,
            max_len=args.max_len,
        )
    train_retriever(args.data, args.out, model=model, split=args.split, cfg=cfg, small=small, device=args.device)
    print(f"loss curve: {args.out / 'loss_curve.png'}")
    return 0
