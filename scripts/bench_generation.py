"""Generation speed of a trained tactic generator: LoRA adapter merged into the weights vs kept as a
peft wrapper, on held-out traced states, and whether both give the same tactics.

    python scripts/bench_generation.py --model runs/gen_small --data runs/data/stdlib --states 32

Prints the figures and writes them to `--out` (JSON).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proofsmith.dataset.schema import TheoremRecord
from proofsmith.prover.generators.hf import GENERATOR_META, HFTacticGenerator
from proofsmith.training.data import read_records, retrieved_premises
from proofsmith.training.premises import make_retriever


def sample_states(data: Path, strategy: str, n: int, seed: int) -> list[tuple[str, TheoremRecord]]:
    steps = [(s.state_before, r) for r in read_records(data, strategy, "test") for s in r.traced_tactics]
    random.Random(seed).shuffle(steps)
    return steps[:n]


def time_generation(
    gen: HFTacticGenerator, states: list[str], premises: list[list[str]], num: int
) -> tuple[float, list]:
    gen.generate_batch(states[:2], premises[:2], num)  # warm-up
    t0 = time.perf_counter()
    out = gen.generate_batch(states, premises, num)
    return time.perf_counter() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a `proofsmith train` output")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--states", type=int, default=32)
    ap.add_argument("--num", type=int, default=8, help="tactics per state")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_generation.json"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    meta = json.loads((Path(args.model) / GENERATOR_META).read_text())
    strategy = meta.get("train_config", {}).get("strategy", "random")
    sample = sample_states(args.data, strategy, args.states, args.seed)
    if not sample:
        raise SystemExit(f"no test steps in {args.data}/{strategy}")
    retriever = make_retriever(meta.get("retriever", "none"), args.data)
    k = meta.get("num_premises", 0)
    states = [s for s, _ in sample]
    premises = [list(retrieved_premises(retriever, s, r, k)) for s, r in sample]

    figures: dict = {"model": str(args.model), "states": len(states), "num": args.num, "threads": args.threads}
    tactics = {}
    for merged in (True, False):
        gen = HFTacticGenerator.from_pretrained(args.model, device="cpu", merge_adapter=merged)
        secs, out = time_generation(gen, states, premises, args.num)
        key = "merged" if merged else "peft"
        figures[f"{key}_s_per_state"] = round(secs / len(states), 4)
        tactics[key] = [[t for t, _ in cands] for cands in out]
        print(f"{key:>6}: {secs / len(states):.3f} s/state ({len(states)} states, {args.num} tactics each)")
    figures["speedup"] = round(figures["peft_s_per_state"] / figures["merged_s_per_state"], 2)
    same = sum(a == b for a, b in zip(tactics["merged"], tactics["peft"]))
    figures["same_tactics"] = f"{same}/{len(states)}"
    print(f"speed-up from merging: {figures['speedup']}x; identical tactic lists on {same}/{len(states)} states")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
