"""Soak one Coq session with random tactic calls (with backtracking); shared by the test and
scripts/bench_reliability.py."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import asdict, dataclass

import psutil

from proofsmith.envs.base import EnvError, TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment

HEADER = "Require Import Arith Lia List.\nImport ListNotations."
THEOREMS = [
    TheoremRef.from_statement(
        "Theorem soak_a : forall a b c : nat, a + b + c = c + b + a /\\ a * 1 = a.", "soak_a", header=HEADER
    ),
    TheoremRef.from_statement(
        "Theorem soak_l : forall (l m : list nat), length (l ++ m) = length m + length l.", "soak_l", header=HEADER
    ),
    TheoremRef.from_statement(
        "Theorem soak_p : forall p q r : Prop, (p -> q) -> (q -> r) -> p -> r /\\ (p \\/ q).", "soak_p", header=HEADER
    ),
]
# Traced-style steps (good, failing, looping-short, refused): every kind of answer the env gives.
POOL = [
    "intros.",
    "intros a b c.",
    "split.",
    "lia.",
    "nia.",
    "simpl.",
    "auto.",
    "reflexivity.",
    "intros l m.",
    "induction l.",
    "rewrite app_length.",
    "rewrite app_length; lia.",
    "simpl; lia.",
    "intros p q r Hpq Hqr Hp.",
    "split; auto.",
    "left.",
    "right.",
    "apply Hqr.",
    "apply Hpq.",
    "exact Hp.",
    "assumption.",
    "tauto.",
    "destruct a.",
    "induction a; simpl; auto.",
    "apply foo.",
    "exact (.",
    "ring.",
    "- idtac.",
    "{ idtac.",
    "}",
    "firstorder.",
    "trivial.",
    "constructor.",
    "eauto.",
    "omega.",
    "Qed.",
    "admit.",
    "repeat split.",
    "intros; split; lia.",
    "now intros.",
]


@dataclass
class SoakReport:
    calls: int
    seconds: float
    rss_start_mib: float
    rss_end_mib: float
    rss_peak_mib: float
    latency_first_ms: float  # median of the first 1,000 calls (or first tenth)
    latency_last_ms: float
    children_before: int
    children_during: int
    children_after: int
    restarts: int
    errors: int
    outcomes: dict


def _rss(env: CoqEnvironment) -> float:
    return psutil.Process(env.session.process.pid).memory_info().rss / 2**20


def run_soak(calls: int, seed: int = 0, window: int = 1000) -> SoakReport:
    rng = random.Random(seed)
    me = psutil.Process()
    before = len(me.children(recursive=True))
    env = CoqEnvironment(tactic_timeout=2)
    roots = [env.start(t) for t in THEOREMS]
    states: list[TacticState] = list(roots)
    rss_start = rss_peak = _rss(env)
    during = len(me.children(recursive=True))
    lat: list[float] = []
    outcomes: dict[str, int] = {}
    errors = 0
    t0 = time.monotonic()
    for i in range(calls):
        state = rng.choice(states) if rng.random() < 0.7 else rng.choice(roots)
        tactic = rng.choice(POOL)
        t1 = time.perf_counter()
        try:
            result = env.run_tactic(state, tactic)
        except EnvError as e:
            errors += 1
            result = e
        lat.append(time.perf_counter() - t1)
        kind = type(result).__name__
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if isinstance(result, TacticState):
            if len(states) < 300:
                states.append(result)
            else:
                states[rng.randrange(len(states))] = result
        if i % 250 == 0:
            rss_peak = max(rss_peak, _rss(env))
    rss_end = _rss(env)
    restarts = env.restarts
    env.close()
    time.sleep(0.2)
    w = min(window, max(1, calls // 10))
    return SoakReport(
        calls=calls,
        seconds=round(time.monotonic() - t0, 1),
        rss_start_mib=round(rss_start, 1),
        rss_end_mib=round(rss_end, 1),
        rss_peak_mib=round(max(rss_peak, rss_end), 1),
        latency_first_ms=round(statistics.median(lat[:w]) * 1e3, 2),
        latency_last_ms=round(statistics.median(lat[-w:]) * 1e3, 2),
        children_before=before,
        children_during=during,
        children_after=len(me.children(recursive=True)),
        restarts=restarts,
        errors=errors,
        outcomes=outcomes,
    )


def as_dict(r: SoakReport) -> dict:
    return asdict(r)
