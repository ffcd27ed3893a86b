"""`proofsmith train --data DIR --out DIR`: continual pretraining + LoRA SFT of a tactic generator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proofsmith.cli.errors import (
    UsageError,
    dataset_with_strategies,
    dense_index,
    existing_file,
    model_path,
    output_dir,
    positive,
)
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, NOVEL_PACKAGES


def check_retriever(spec: str, what: str = "--retriever") -> None:
    """none | bm25 | dense:INDEX_DIR | package.module:factory."""
    if spec in ("", "none", "bm25"):
        return
    if spec.startswith("dense:"):
        dense_index(spec[len("dense:") :], what, corpus_given=True)
        return
    module, sep, factory = spec.partition(":")
    if not sep or not module or not factory:
        raise UsageError(f"{what} {spec!r}: expected none, bm25, dense:INDEX_DIR or package.module:factory")


def check_mutants(path: Path) -> None:
    """A `proofsmith mutate` output, .json/.jsonl records, a .v file, or a directory of those."""
    if not path.exists():
        raise UsageError(f"--mutants {path}: no such file or directory")
    if path.is_dir():
        if not any(next(iter(path.rglob(pattern)), None) for pattern in ("*.json", "*.jsonl", "*.v")):
            raise UsageError(f"--mutants {path}: no mutants in it (no .json, .jsonl or .v files)")
        return
    existing_file(path, "--mutants", (".json", ".jsonl", ".v"))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="a traced dataset (proofsmith trace --out DIR)")
    p.add_argument("--out", type=Path, required=True, help="output dir; rerunning resumes from its last checkpoint")
    p.add_argument("--init", default="scratch", help="'scratch' or a Hugging Face model name / local path")
    p.add_argument("--config", default="small", choices=["tiny", "small", "base"], help="scratch model size")
    p.add_argument("--arch", default="causal", choices=["causal", "seq2seq"], help="scratch architecture")
    p.add_argument(
        "--strategy",
        default="random",
        choices=ALL_SPLIT_STRATEGIES,
        help=f"which split to train on (its train part; val for the eval loss); {NOVEL_PACKAGES} needs a "
        "`proofsmith corpus` dataset",
    )
    p.add_argument(
        "--mutants",
        type=Path,
        action="append",
        default=[],
        help="mutated theorems (dataset dir, .json/.jsonl records, or .v files); repeatable",
    )
    p.add_argument(
        "--retriever",
        default="bm25",
        help="premises for the prompts: bm25 (over DATA/corpus.jsonl) | none | dense:INDEX_DIR | module:factory",
    )
    p.add_argument("--num-premises", type=int, default=3, help="premises retrieved per state")
    p.add_argument(
        "--whole-state",
        action="store_true",
        help="prompts show every goal (ReProver) rather than the first goal + a count of the others",
    )
    p.add_argument(
        "--no-state-pretraining",
        action="store_true",
        help="stage 1 reads statements + proofs only, not proofs annotated with their traced goals",
    )
    p.add_argument("--max-input-tokens", type=int, default=192)
    p.add_argument("--max-target-tokens", type=int, default=64)
    p.add_argument("--pretrain-steps", type=int, default=None, help="stage 1 steps (0 skips continual pretraining)")
    p.add_argument("--sft-steps", type=int, default=None, help="stage 2 (LoRA SFT) steps")
    p.add_argument("--pretrain-minutes", type=float, default=None, help="wall-clock cap on stage 1")
    p.add_argument("--sft-minutes", type=float, default=None, help="wall-clock cap on stage 2")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--grad-accum", type=int, default=1, help="gradient accumulation steps")
    p.add_argument("--lr-pretrain", type=float, default=1e-3)
    p.add_argument("--lr", type=float, default=2e-3, help="LoRA learning rate")
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lora-alpha", type=int, default=32)
    p.add_argument("--lora-dropout", type=float, default=0.05)
    p.add_argument("--target-modules", nargs="+", default=None, help="override the per-architecture LoRA targets")
    p.add_argument("--eval-every", type=int, default=500, help="evaluate on val and checkpoint every N steps")
    p.add_argument("--max-eval", type=int, default=256, help="val examples used for eval loss")
    p.add_argument("--merge", action="store_true", help="also write OUT/merged: the adapter folded into the base")
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda when available)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    # Everything is checked before a model loads or anything is written.
    dataset_with_strategies(args.data, "--data", [args.strategy], "--strategy", [f"{args.strategy}/train.json"])
    output_dir(args.out, "--out")
    init = args.init if args.init == "scratch" else model_path(args.init, "--init", extra=("adapter_config.json",))
    for m in args.mutants:
        check_mutants(m)
    check_retriever(args.retriever)
    for value, what in (
        (args.num_premises, "--num-premises"),
        (args.max_input_tokens, "--max-input-tokens"),
        (args.max_target_tokens, "--max-target-tokens"),
        (args.pretrain_steps, "--pretrain-steps"),
        (args.sft_steps, "--sft-steps"),
        (args.pretrain_minutes, "--pretrain-minutes"),
        (args.sft_minutes, "--sft-minutes"),
        (args.batch_size, "--batch-size"),
        (args.grad_accum, "--grad-accum"),
        (args.lr_pretrain, "--lr-pretrain"),
        (args.lr, "--lr"),
        (args.lora_r, "--lora-r"),
        (args.eval_every, "--eval-every"),
    ):
        positive(value, what, allow_zero=what in ("--num-premises", "--pretrain-steps", "--pretrain-minutes"))

    import torch

    from proofsmith.training.pipeline import TrainConfig, run_training

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = TrainConfig(
        data=args.data,
        out=args.out,
        init=init,
        config=args.config,
        arch=args.arch,
        strategy=args.strategy,
        mutants=list(args.mutants),
        focus_goal=not args.whole_state,
        pretrain_with_states=not args.no_state_pretraining,
        retriever=args.retriever,
        num_premises=args.num_premises,
        max_input_tokens=args.max_input_tokens,
        max_target_tokens=args.max_target_tokens,
        stage1_steps=args.pretrain_steps,
        stage2_steps=args.sft_steps,
        stage1_minutes=args.pretrain_minutes,
        stage2_minutes=args.sft_minutes,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr_pretrain=args.lr_pretrain,
        lr_lora=args.lr,
        lora_r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules=args.target_modules,
        eval_every=args.eval_every,
        max_eval=args.max_eval,
        merge=args.merge,
        device=args.device,
        seed=args.seed,
        progress=not args.quiet,
    )
    try:
        res = run_training(cfg)
    except FileNotFoundError as e:  # e.g. an empty train split
        raise UsageError(str(e)) from None
    print(json.dumps({"stage1": res.stage1, "stage2": res.stage2}, indent=1))
    print(f"generator: hf:{res.out}   loss curve: {res.loss_png}")
    return 0
