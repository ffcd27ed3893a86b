"""Options shared by the proving subcommands (prove, eval, demo): one name per time limit, defaults
from `envs/limits.py`, and the checks that run before any worker starts."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import UsageError, positive, premise_source
from proofsmith.envs.limits import TACTIC_TIMEOUT, THEOREM_TIMEOUT, VERIFY_TIMEOUT
from proofsmith.prover.search import Frontier, SearchConfig


def add_search_limits(p: argparse.ArgumentParser, theorem_timeout: float = THEOREM_TIMEOUT) -> None:
    p.add_argument(
        "--theorem-timeout",
        "--timeout",
        dest="theorem_timeout",
        type=float,
        default=theorem_timeout,
        help="wall-clock budget for proving one theorem, s (default %(default)s)",
    )
    p.add_argument(
        "--tactic-timeout",
        type=float,
        default=TACTIC_TIMEOUT,
        help="time limit of one tactic, s (default %(default)s)",
    )
    p.add_argument(
        "--frontier",
        choices=[f.value for f in Frontier],
        default=None,
        help="what best-first search orders: whole states, running all their candidates (node, ReProver), "
        f"or (state, tactic) pairs by path + tactic score (tactic) (default: the built prover's for `prove` "
        f"without --generator, else {SearchConfig.frontier.value})",
    )
    p.add_argument(
        "--timeout-penalty",
        type=float,
        default=SearchConfig.timeout_penalty,
        help="log-probability taken off a tactic that hit its time limit on the state or an ancestor "
        "(0: off; default %(default)s)",
    )


def add_verify_timeout(p: argparse.ArgumentParser, help_text: str = "time limit of one check") -> None:
    """`--verify-timeout` (old name `--timeout`) of the commands that re-check a whole file."""
    p.add_argument(
        "--verify-timeout",
        "--timeout",
        dest="verify_timeout",
        type=float,
        default=VERIFY_TIMEOUT,
        help=f"{help_text}, s (default %(default)s)",
    )


def add_split_strategies(p: argparse.ArgumentParser) -> None:
    """`--splits`: which split strategies an evaluation covers (default: what the dataset has)."""
    from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, NOVEL_PACKAGES

    p.add_argument(
        "--splits",
        nargs="+",
        choices=ALL_SPLIT_STRATEGIES,
        default=None,
        help=f"split strategies to evaluate (default: random novel_premises, and {NOVEL_PACKAGES} when the "
        f"dataset has it); {NOVEL_PACKAGES} needs a `proofsmith corpus` dataset",
    )


def add_premises(p: argparse.ArgumentParser) -> None:
    """`--premises`: retrieval inside search (prove, eval)."""
    p.add_argument(
        "--premises",
        type=Path,
        default=None,
        metavar="CORPUS",
        help="premise corpus (corpus.jsonl or a traced dataset dir: BM25) or a dense index dir (proofsmith "
        "index --out: the trained retriever); each state's top premises go to the generator (the `actions` "
        "generator tries apply/rewrite with them)",
    )


def premises_corpus(path: Path | None) -> str | None:
    """The checked, absolute premise source of `--premises` (None when not given): a corpus file for
    BM25, or a dense index directory."""
    return str(premise_source(path, "--premises").resolve()) if path is not None else None


def search_config(args: argparse.Namespace, **fields) -> SearchConfig:
    """The search settings of the command line, checked (every number in range)."""
    positive(args.theorem_timeout, "--theorem-timeout")
    positive(args.tactic_timeout, "--tactic-timeout")
    frontier = fields.pop("frontier", None) or getattr(args, "frontier", None) or SearchConfig.frontier
    cfg = SearchConfig(
        theorem_timeout=args.theorem_timeout,
        tactic_timeout=args.tactic_timeout,
        frontier=Frontier(frontier),
        timeout_penalty=getattr(args, "timeout_penalty", SearchConfig.timeout_penalty),
        **fields,
    )
    positive(cfg.timeout_penalty, "--timeout-penalty", allow_zero=True)
    positive(cfg.num_sampled_tactics, "--num-tactics")
    positive(cfg.max_expansions, "--max-expansions")
    return cfg


def add_whole_proof(p: argparse.ArgumentParser) -> None:
    """`--mode`, `--num-proofs`, `--repair-rounds`: whole-proof mode with repair from Coq's errors (prove)."""
    from proofsmith.prover.whole_proof import NUM_PROOFS, REPAIR_ROUNDS, ProveMode

    p.add_argument(
        "--mode",
        default=ProveMode.SEARCH.value,
        choices=[m.value for m in ProveMode],
        help="search: best-first over tactics; whole-proof: sample whole proofs and repair them from Coq's first "
        "error (needs an openai:... generator); both: whole-proof, then search with the time left (default %(default)s)",
    )
    p.add_argument(
        "--num-proofs", type=int, default=NUM_PROOFS, help="whole proofs sampled per theorem (default %(default)s)"
    )
    p.add_argument(
        "--repair-rounds",
        type=int,
        default=REPAIR_ROUNDS,
        help="repairs of each sampled proof, from Coq's error and the state there (default %(default)s)",
    )


def whole_proof_options(args: argparse.Namespace, spec: str) -> tuple[str, int, int]:
    """(mode, num_proofs, repair_rounds), checked: whole-proof modes need a generator that writes proofs."""
    positive(args.num_proofs, "--num-proofs")
    positive(args.repair_rounds, "--repair-rounds", allow_zero=True)
    if args.mode != "search" and getattr(args, "shared_model", False):
        raise UsageError(f"--mode {args.mode} asks the openai: server directly; drop --shared-model")
    if args.mode != "search" and not spec.startswith("openai:"):
        raise UsageError(
            f"--mode {args.mode} needs a generator that writes whole proofs (openai:MODEL@URL), not {spec.split(':')[0]}"
        )
    return args.mode, args.num_proofs, args.repair_rounds


def openai_servers_answer(spec: str) -> None:
    """Every `openai:` member of `spec` has a server that answers and serves its model (one quick
    request each), so a job against a dead server fails before any worker starts."""
    if "openai:" not in spec:
        return
    from proofsmith.prover.generators.openai_client import probe

    members = spec.partition(":")[2].split("+") if spec.startswith("ensemble:") else [spec]
    for member in members:
        if member.startswith("openai:"):
            why = probe(member.partition(":")[2])
            if why:
                raise UsageError(f"--generator {member.split('#')[0]}: {why}")
