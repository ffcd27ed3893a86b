"""`proofsmith eval-generator --data DIR [--knn PATH] [--model OUT]`: exact match (top-1/top-k) on
held-out traced steps of each split strategy (random, novel_premises, and novel_packages in a `proofsmith
corpus` dataset), and execution success of the top-k tactics in Coq."""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

from proofsmith.cli.errors import (
    UsageError,
    dataset_with_strategies,
    existing_dir,
    generator_spec,
    output_file,
    positive,
    traced_dataset,
)
from proofsmith.cli.options import add_split_strategies
from proofsmith.dataset.loading import dataset_strategies
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="a traced dataset (proofsmith trace --out DIR)")
    p.add_argument("--knn", default=None, help="a saved k-NN index (default: build one from each split's train)")
    p.add_argument("--no-knn", action="store_true", help="leave the k-NN generator out")
    p.add_argument(
        "--model",
        action="append",
        default=[],
        help="a `proofsmith train` output (or any hf: path), used on the split it was trained on; "
        "STRATEGY=PATH names the split; repeatable (one model per split)",
    )
    p.add_argument("--no-ensemble", action="store_true", help="leave the k-NN + model ensemble out")
    add_split_strategies(p)
    p.add_argument("--split", default="test", choices=["val", "test"], help="which held-out part")
    p.add_argument("--k", type=int, default=8, help="candidates per state (top-k)")
    p.add_argument("--max-steps", type=int, default=None, help="sample this many held-out steps per split")
    p.add_argument("--exec-sample", type=int, default=0, help="steps per split run in Coq for execution success")
    p.add_argument(
        "--retriever",
        default=None,
        help="premises for the model: none | bm25 | module:factory (default: what the model was trained with)",
    )
    p.add_argument(
        "--roots",
        type=Path,
        nargs="*",
        default=None,
        help="where the traced .v files live (default: the records' file:// URLs and coqc -where)",
    )
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("bench_results/generators.json"))
    p.add_argument("--quiet", action="store_true")


def _coq_roots() -> list[Path]:
    import shutil
    import subprocess

    if not shutil.which("coqc"):
        return []
    where = subprocess.run(["coqc", "-where"], capture_output=True, text=True).stdout.strip()
    return [Path(where) / "theories", Path(where) / "user-contrib"] if where else []


def trained_strategy(path: str) -> str | None:
    """The split a `proofsmith train` output was trained on (None: not ours, e.g. a Hub model)."""
    from proofsmith.prover.generators.hf import GENERATOR_META

    meta = Path(path) / GENERATOR_META
    return json.loads(meta.read_text()).get("train_config", {}).get("strategy") if meta.is_file() else None


def models_by_split(specs: list[str], splits: list[str]) -> dict[str, str]:
    """STRATEGY=PATH or PATH (its training split; a model of unknown provenance applies to every split)."""
    out: dict[str, str] = {}
    for spec in specs:
        named, sep, path = spec.partition("=")
        strategy: str | None = named
        if not sep or named not in ALL_SPLIT_STRATEGIES:
            path, strategy = spec, trained_strategy(spec)
        for split in [strategy] if strategy else splits:
            out[split] = path
    return out


def check_args(args: argparse.Namespace) -> None:
    """Everything checked before a model loads or anything is written."""
    existing_dir(args.data, "--data")
    if args.splits is None:
        args.splits = list(dataset_strategies(args.data))
    dataset_with_strategies(args.data, "--data", args.splits, "--splits")
    present = [s for s in args.splits if (args.data / s / f"{args.split}.json").is_file()]
    if not present:
        traced_dataset(args.data, "--data", [f"{s}/{args.split}.json" for s in args.splits])
    if args.knn:
        spec = generator_spec(f"knn:{args.knn}", "--knn")
        if not (Path(spec.removeprefix("knn:")) / "knn.json").is_file():
            raise UsageError(f"--knn {args.knn}: not a k-NN index (no knn.json)")
    elif not args.no_knn:
        traced_dataset(args.data, "--data", [f"{s}/train.json" for s in present])
    for spec in args.model:
        strategy, sep, path = spec.partition("=")
        if sep and strategy in ALL_SPLIT_STRATEGIES:
            dataset_with_strategies(args.data, "--data", [strategy], "--model")
        generator_spec(f"hf:{path if sep and strategy in ALL_SPLIT_STRATEGIES else spec}", "--model")
    if args.no_knn and not args.model:
        raise UsageError("nothing to evaluate: give --model and/or keep the k-NN")
    if args.retriever is not None:
        from proofsmith.cli.train import check_retriever

        check_retriever(args.retriever)
    for root in args.roots or []:
        existing_dir(root, "--roots")
    output_file(args.out, "--out")
    positive(args.k, "--k")
    positive(args.max_steps, "--max-steps")
    positive(args.exec_sample, "--exec-sample", allow_zero=True)
    positive(args.threads, "--threads")


def run(args: argparse.Namespace) -> int:
    check_args(args)

    import torch

    from proofsmith.dataset.loading import read_split, tactic_pairs
    from proofsmith.prover.generators.ensemble import EnsembleGenerator
    from proofsmith.prover.generators.hf import GENERATOR_META, HFTacticGenerator
    from proofsmith.prover.generators.knn import KNNTacticGenerator
    from proofsmith.training.evaluate import Memo, evaluate_generators, format_table
    from proofsmith.training.premises import make_retriever

    if args.threads:
        torch.set_num_threads(args.threads)
    per_split = models_by_split(args.model, args.splits)
    env_factory = None
    if args.exec_sample > 0:
        from proofsmith.envs.coq import CoqEnvironment

        env_factory = CoqEnvironment
    roots = args.roots if args.roots is not None else _coq_roots()
    tables = {}
    retrievers: dict[str, str] = {}
    for strategy in args.splits:
        split_file = args.data / strategy / f"{args.split}.json"
        if not split_file.is_file():
            log.warning("skipping %s: no %s", strategy, split_file)
            continue
        gens: dict = {}
        if not args.no_knn:
            knn = (
                KNNTacticGenerator.load(Path(args.knn))
                if args.knn
                else KNNTacticGenerator.from_pairs(tactic_pairs(read_split(args.data / strategy / "train.json")))
            )
            gens["knn"] = Memo(knn)
        model, retriever, n_prem = None, None, 0
        if strategy in per_split:
            path = per_split[strategy]
            model = HFTacticGenerator.from_pretrained(path, device=args.device)
            spec = args.retriever
            if spec is None:
                meta = Path(path) / GENERATOR_META
                spec = json.loads(meta.read_text()).get("retriever", "none") if meta.is_file() else "none"
            retrievers[strategy] = spec
            retriever = make_retriever(spec, args.data)
            n_prem = model.config.num_premises
            gens["lora-model"] = Memo(model)
            if "knn" in gens and not args.no_ensemble:
                gens["ensemble"] = EnsembleGenerator([gens["knn"], gens["lora-model"]])
        elif args.model:
            print(
                f"{strategy}: no model trained on this split's train part (evaluating one trained on another "
                f"split would leak its test theorems); give --model {strategy}=PATH"
            )
        if not gens:
            raise UsageError(f"nothing to evaluate on {strategy}: give --model {strategy}=PATH and/or keep the k-NN")

        def premises(step, retriever=retriever, n_prem=n_prem) -> list[str]:
            if retriever is None:
                return []
            r = step.record
            return [p.code for p, _ in retriever.retrieve(step.state, r.file_path, r.start, n_prem)]

        t = evaluate_generators(
            gens,
            {strategy: read_split(split_file)},
            args.k,
            args.max_steps,
            premises,
            env_factory,
            args.exec_sample,
            roots,
            args.seed,
            progress=not args.quiet,
        )
        tables.update(t)
    print(format_table(tables, args.k))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "data": str(args.data),
        "split": args.split,
        "k": args.k,
        "max_steps": args.max_steps,
        "exec_sample": args.exec_sample,
        "models": per_split,
        "retrievers": retrievers,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "results": {s: {g: asdict(v) for g, v in rows.items()} for s, rows in tables.items()},
    }
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")
    return 0
