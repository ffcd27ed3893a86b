"""Benchmark the Coq environment against raw coqidetop round-trips.

Prints and writes (JSON, plus a latency plot): median/p90 of `run_tactic` vs a raw Add+Goal(+Qed)+Edit_at
for the same tactics on the same state, backtracking cost, session start time, and coqidetop's
RSS after 5,000 steps.  Usage: python scripts/bench_env.py --out bench_results/bench_env.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from proofsmith.envs.base import TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.session import CoqIdeSession

HEADER = "Require Import Arith Lia."
STATEMENT = "Theorem bench : forall a b c : nat, a + b + c = c + b + a /\\ a * 1 = a."
TACTICS = ["intros a b c.", "split.", "intros; split; lia.", "simpl.", "intros; split.", "apply foo.", "intros; nia."]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def ms(xs: list[float]) -> dict:
    return {"median_ms": round(statistics.median(xs) * 1e3, 3), "p90_ms": round(pct(xs, 0.9) * 1e3, 3), "n": len(xs)}


def bench_raw(rounds: int) -> list[float]:
    """Raw protocol: from the proof's root state, Add tactic, Goal (+ Qed when no goal is left), Edit_at back."""
    s = CoqIdeSession()
    sid = s.start()
    for sentence in ["Set Printing Width 1000.", HEADER, STATEMENT, "Proof."]:
        sid = xp.decode_add(s.add(sentence, sid).value)
    s.goal()
    root = sid
    times = []
    for i in tqdm(range(rounds), desc="raw coqidetop", leave=False):
        tac = TACTICS[i % len(TACTICS)]
        t0 = time.perf_counter()
        reply = s.add(f"Timeout 10 {tac}", root)
        if reply.good:
            goals = s.goal()
            done = goals.good and xp.decode_goals(goals.value)
            if done and done.complete:  # the environment checks Qed before reporting a proof: so must raw
                qed = s.add("Qed.", xp.decode_add(reply.value))
                if qed.good:
                    s.status()
        s.edit_at(root)
        times.append(time.perf_counter() - t0)
    s.close()
    return times


def bench_env(rounds: int) -> tuple[list[float], float, CoqEnvironment, TacticState]:
    env = CoqEnvironment()
    ref = TheoremRef.from_statement(STATEMENT, "bench", header=HEADER)
    t0 = time.perf_counter()
    s0 = env.start(ref)
    start = time.perf_counter() - t0
    times = []
    for i in tqdm(range(rounds), desc="environment", leave=False):
        tac = TACTICS[i % len(TACTICS)]
        t0 = time.perf_counter()
        env.run_tactic(s0, tac)
        times.append(time.perf_counter() - t0)
    return times, start, env, s0


def bench_backtrack(env: CoqEnvironment, s0: TacticState, rounds: int) -> dict:
    """Alternate between the tips of two branches that share a 1-step prefix, each 6 steps deep."""
    branch = {}
    for name, first in (("a", "intros a b c."), ("b", "intro x.")):
        st = env.run_tactic(s0, first)
        for _ in range(5):
            st = env.run_tactic(st, "idtac.")
        branch[name] = st
    jump, same = [], []
    for i in range(rounds):
        target = branch["a" if i % 2 else "b"]
        t0 = time.perf_counter()
        env.run_tactic(target, "idtac.")  # jump: Edit_at + re-add the other branch's 6 sentences
        jump.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        env.run_tactic(target, "idtac.")  # same node again: Edit_at one state back only
        same.append(time.perf_counter() - t0)
    return {"switch_branch_depth6": ms(jump), "sibling_same_parent": ms(same)}


def soak(env: CoqEnvironment, s0: TacticState, steps: int) -> dict:
    stack = [s0]
    t0 = time.perf_counter()
    for i in tqdm(range(steps), desc="5k-step soak", leave=False):
        r = env.run_tactic(stack[-1] if i % 3 else stack[0], ["intros.", "split.", "idtac.", "simpl."][i % 4])
        if isinstance(r, TacticState):
            stack.append(r)
            if len(stack) > 12:
                del stack[1:]
    return {
        "steps": steps,
        "seconds": round(time.perf_counter() - t0, 2),
        "rss_mb": round(env.session.rss_bytes() / 2**20, 1),
        "restarts": env.restarts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=700)
    ap.add_argument("--soak-steps", type=int, default=5000)
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_env.json"))
    args = ap.parse_args()

    raw = bench_raw(args.rounds)
    env_times, start, env, s0 = bench_env(args.rounds)
    back = bench_backtrack(env, s0, 100)
    rss = soak(env, s0, args.soak_steps)
    env.close()
    result = {
        "machine": f"{platform.node()} {platform.machine()} cores={__import__('os').cpu_count()}",
        "run_tactic_env": ms(env_times),
        "raw_add_goal_qed_editat": ms(raw),
        "ratio_median": round(statistics.median(env_times) / statistics.median(raw), 3),
        "ratio_p90": round(pct(env_times, 0.9) / pct(raw, 0.9), 3),
        "backtracking": back,
        "session_start_s": round(start, 3),
        "after_soak": rss,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.hist([t * 1e3 for t in raw], bins=60, alpha=0.6, label="raw coqidetop")
        ax.hist([t * 1e3 for t in env_times], bins=60, alpha=0.6, label="CoqEnvironment.run_tactic")
        ax.set_xlabel("latency per tactic (ms)")
        ax.set_ylabel("count")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.out.with_suffix(".png"), dpi=110)
    except Exception as e:  # the figures matter more than the picture
        print(f"(no plot: {e})")
    print(json.dumps(result, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
