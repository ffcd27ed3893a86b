"""Chaos on `proofsmith prove`: run the job as a subprocess tagged through its environment, inject
faults into exactly the processes it started (found by the tag, never by name alone), and check the
results file. Shared by the tests and scripts/bench_reliability.py."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from proofsmith.prover.benchmark import load_benchmark
from proofsmith.prover.results import read_results

ROOT = Path(__file__).resolve().parents[2]
PROOFSMITH = Path(sys.executable).parent / "proofsmith"
TAG = "PROOFSMITH_CHAOS_TAG"

EASY = [
    "Require Import Arith.\nTheorem {n} : forall a b : nat, a + b + {k} = {k} + b + a.\nProof.\nAdmitted.\n",
    "Theorem {n} : forall p q : Prop, p /\\ q -> q /\\ p.\nProof.\nAdmitted.\n",
    "Require Import Arith.\nTheorem {n} : forall a : nat, a * {k} <= a * ({k} + 1).\nProof.\nAdmitted.\n",
    "Require Import Reals.\nOpen Scope R_scope.\nTheorem {n} : forall x : R, {k} * x = 2 * {k} -> x = 2.\nProof.\nAdmitted.\n",
]
HARD = "Require Import Arith.\nTheorem {n} : forall x y z : nat, x * x * y + z * {k} = y * y * x + z * z.\nProof.\nAdmitted.\n"


def make_bench(directory: Path, n_easy: int, n_hard: int, include_examples: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(n_easy):
        name = f"c_easy_{i:02d}"
        (directory / f"{name}.v").write_text(EASY[i % len(EASY)].format(n=name, k=i + 1))
    for i in range(n_hard):
        name = f"c_hard_{i:02d}"
        (directory / f"{name}.v").write_text(HARD.format(n=name, k=i + 1))
    for f in sorted((ROOT / "examples" / "bench").glob("*.v"))[:include_examples]:
        (directory / f.name).write_text(f.read_text())
    return directory


@dataclass
class Job:
    proc: subprocess.Popen
    tag: str
    log: Path

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)


def start_job(
    bench: Path, out: Path, *, workers: int = 2, timeout: float = 8, max_expansions: int = 4, tag: str | None = None
) -> Job:
    tag = tag or uuid.uuid4().hex
    env = dict(os.environ, **{TAG: tag, "RAY_ADDRESS": ""})
    log = out.with_suffix(f".{tag[:6]}.log")
    argv = [
        str(PROOFSMITH),
        "prove",
        str(bench),
        "--generator",
        "auto",
        "--workers",
        str(workers),
        "--timeout",
        str(timeout),
        "--max-expansions",
        str(max_expansions),
        "--tactic-timeout",
        "3",
        "--out",
        str(out),
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return Job(proc, tag, log)


def tagged(tag: str) -> list[psutil.Process]:
    """Live processes whose environment carries this job's tag (the job, Ray, actors, provers)."""
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.environ().get(TAG) == tag and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


def cmd(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def live_provers(tag: str) -> list[psutil.Process]:
    """coqidetop processes of the search environments (not the ones `verify` runs its audit in)."""
    return [p for p in tagged(tag) if "coqidetop" in cmd(p) and "ProofsmithVerify" not in cmd(p)]


def actors(tag: str) -> list[psutil.Process]:
    return [p for p in tagged(tag) if cmd(p).startswith("ray::ProverWorker")]


def wait_for(pred, timeout: float, step: float = 0.2) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def leftovers(tag: str, grace: float = 20.0) -> list[str]:
    """Tagged processes still alive `grace` seconds after the job ended."""
    wait_for(lambda: not tagged(tag), grace, 0.5)
    return [f"{p.pid} {cmd(p)[:80]}" for p in tagged(tag)]


@dataclass
class Faults:
    injected: list[str] = field(default_factory=list)


def kill_one(procs: list[psutil.Process], rng: random.Random, faults: Faults, what: str) -> bool:
    if not procs:
        return False
    p = rng.choice(procs)
    try:
        p.send_signal(signal.SIGKILL)
    except psutil.Error:
        return False
    faults.injected.append(f"SIGKILL {what} {p.pid}")
    return True


@dataclass
class Check:
    keys: int
    lines: int
    lost: list[str]
    duplicated: list[str]
    proved: set[str]
    unsound: list[str]
    statuses: dict


def check_results(bench: Path, out: Path, verify: bool = True) -> Check:
    from proofsmith.envs.coq import CoqEnvironment
    from proofsmith.prover.generators.factory import make_generator

    theorems = {t.key: t for t in load_benchmark(bench)}
    rows = read_results(out)
    counts = Counter(r.get("key") for r in rows)
    lost = sorted(k for k in theorems if counts[k] == 0)
    duplicated = sorted(k for k, c in counts.items() if c > 1)
    proved = {r["key"] for r in rows if r.get("status") == "proved"}
    unsound = []
    if verify and proved:
        imports = tuple(getattr(make_generator("auto"), "required_imports", ()))
        with CoqEnvironment(additional_imports=imports) as env:
            for r in rows:
                if r.get("status") == "proved":
                    v = env.verify(theorems[r["key"]].ref, r["proof"])
                    if not v.verified:
                        unsound.append(f"{r['key']}: {v.reasons[:1]}")
    return Check(
        len(theorems), len(rows), lost, duplicated, proved, unsound, dict(Counter(r.get("status") for r in rows))
    )
