"""Reliability report: adversarial cases, fuzzing, a 10,000-call soak and chaos on a 50-theorem
`prove` job. Prints a table and writes JSON.  Usage:
    python scripts/bench_reliability.py --out bench_results/bench_reliability.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proofsmith.envs.base import ProofFinished  # noqa: E402
from proofsmith.envs.coq import CoqEnvironment  # noqa: E402
from proofsmith.envs.fstar.candidates import check_candidate  # noqa: E402
from proofsmith.envs.isabelle.steps import check_step  # noqa: E402
from proofsmith.envs.lean.tactic_filter import check_tactic as lean_check  # noqa: E402
from proofsmith.prover.results import read_results  # noqa: E402
from tests.adversarial.cases import (  # noqa: E402
    ACCEPTED,
    COQ_CASES,
    COQ_FIX_CASES,
    COQ_VERIFY_CASES,
    FSTAR_CASES,
    ISABELLE_CASES,
    LEAN_CASES,
    REFUSED,
)
from tests.adversarial.test_adversarial_coq import ADD0, FALSE, outcome  # noqa: E402
from tests.reliability.chaos import (  # noqa: E402
    Faults,
    actors,
    check_results,
    kill_one,
    leftovers,
    live_provers,
    make_bench,
    start_job,
)
from tests.reliability.soak import as_dict, run_soak  # noqa: E402


def adversarial() -> dict:
    tried = contained = lost = unexpected = 0
    with CoqEnvironment(tactic_timeout=5, verify_timeout=60) as env:
        for case in COQ_CASES + COQ_FIX_CASES:
            thm = FALSE if case in COQ_FIX_CASES else ADD0
            s0 = env.start(thm)
            restarts = env.restarts
            result = env.run_tactic(s0, case.tactic, script=case.script)
            tried += 1
            contained += not isinstance(result, ProofFinished)
            unexpected += outcome(result) != case.expect
            alive = env.run_tactic(env.start(thm), "intro n.")
            lost += env.restarts != restarts or type(alive).__name__ != "TacticState"
        for proof in COQ_VERIFY_CASES.values():
            tried += 1
            contained += not env.verify(FALSE, proof).verified
    coq = {"tried": tried, "no_proof": contained, "unexpected_outcome": unexpected, "sessions_lost": lost}
    others = {}
    for name, cases, ok in (
        ("lean", LEAN_CASES, lambda t: lean_check(t) is None),
        ("isabelle", ISABELLE_CASES, lambda t: check_step(t).ok),
        ("fstar", FSTAR_CASES, lambda t: check_candidate(t).ok),
    ):
        refused = [c for c in cases if c.expect == REFUSED]
        others[name] = {
            "tried": len(cases),
            "must_refuse": len(refused),
            "refused": sum(not ok(c.tactic) for c in refused),
            "honest_accepted": sum(ok(c.tactic) for c in cases if c.expect == ACCEPTED),
        }
    return {"coq": coq, **others}


def fuzz(examples: int) -> dict:
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/fuzz", "--hypothesis-show-statistics"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PROOFSMITH_FUZZ_EXAMPLES=str(examples)),
    )
    ran = sum(int(n) + int(m) for n, m in re.findall(r"(\d+) passing, (\d+) failing", res.stdout))
    summary = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else res.stderr[-300:]
    return {"examples": ran, "tests": summary, "ok": res.returncode == 0, "seconds": round(time.monotonic() - t0, 1)}


def chaos(work: Path, n_easy: int, n_hard: int, n_examples: int, seed: int) -> dict:
    bench = make_bench(work / "bench", n_easy, n_hard, n_examples)
    rng, faults = random.Random(seed), Faults()
    t0 = time.monotonic()
    clean = start_job(bench, work / "clean.jsonl")
    assert clean.wait(1200) == 0, clean.log.read_text()[-2000:]
    ref = check_results(bench, work / "clean.jsonl", verify=False)
    clean_s = time.monotonic() - t0

    out = work / "chaos.jsonl"
    survived = 0
    leaks: list[str] = []
    for round_ in range(3):  # two interrupted runs (SIGINT, SIGTERM), then one that must finish
        job = start_job(bench, out)
        stop_after = len(read_results(out)) + 8
        actor_killed = False  # the issue's scenario: one Ray worker killed per run (a theorem is retried once)
        while job.proc.poll() is None:
            time.sleep(rng.uniform(2, 5))
            if rng.random() < 0.6:
                kill_one(live_provers(job.tag), rng, faults, "coqidetop")
            elif not actor_killed and rng.random() < 0.5:
                actor_killed = kill_one(actors(job.tag), rng, faults, "ray-actor") or actor_killed
            if round_ < 2 and len(read_results(out)) >= stop_after:
                sig = signal.SIGINT if round_ == 0 else signal.SIGTERM
                job.proc.send_signal(sig)
                faults.injected.append(f"{sig.name} job")
                break
        rc = job.wait(300)
        survived += rc in (0, 130, 143)
        leaks += leftovers(job.tag)
    after = check_results(bench, out)
    return {
        "theorems": after.keys,
        "clean_proved": len(ref.proved),
        "chaos_proved": len(after.proved),
        "same_proved_set": after.proved == ref.proved,
        "faults_injected": len(faults.injected),
        "faults": faults.injected,
        "job_runs_ended_cleanly": survived,
        "results_lost": len(after.lost),
        "results_duplicated": len(after.duplicated),
        "unsound_proofs": len(after.unsound),
        "processes_leaked": len(leaks),
        "statuses": after.statuses,
        "clean_seconds": round(clean_s, 1),
        "seconds": round(time.monotonic() - t0, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "bench_results" / "bench_reliability.json")
    ap.add_argument("--soak-calls", type=int, default=10_000)
    ap.add_argument("--fuzz-examples", type=int, default=1000)
    ap.add_argument("--theorems", type=int, default=50, help="chaos job size (easy + hard + examples/bench)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    report: dict = {"machine": f"{platform.node()} {os.cpu_count()} CPUs", "date": time.strftime("%Y-%m-%d %H:%M")}
    report["adversarial"] = adversarial()
    print("adversarial:", json.dumps(report["adversarial"]))
    report["fuzz"] = fuzz(args.fuzz_examples)
    print("fuzz:", json.dumps(report["fuzz"]))
    report["soak"] = as_dict(run_soak(args.soak_calls, seed=args.seed))
    print("soak:", json.dumps(report["soak"]))
    n_ex = min(20, args.theorems // 2)
    n_hard = max(1, args.theorems // 10)
    with tempfile.TemporaryDirectory(prefix="proofsmith-chaos-") as tmp:
        report["chaos"] = chaos(Path(tmp), args.theorems - n_ex - n_hard, n_hard, n_ex, args.seed)
    print("chaos:", json.dumps({k: v for k, v in report["chaos"].items() if k != "faults"}))
    a, f, s, c = report["adversarial"], report["fuzz"], report["soak"], report["chaos"]
    rows = [
        (
            "adversarial (Coq live) tried / no proof / sessions lost",
            f"{a['coq']['tried']} / {a['coq']['no_proof']} / {a['coq']['sessions_lost']}",
        ),
        *[
            (f"adversarial ({k} filter) must refuse / refused", f"{a[k]['must_refuse']} / {a[k]['refused']}")
            for k in ("lean", "isabelle", "fstar")
        ],
        ("fuzz examples run (4 readers + Coq filter)", f"{f['examples']} ({'all passed' if f['ok'] else 'FAILED'})"),
        ("soak calls / restarts / errors", f"{s['calls']} / {s['restarts']} / {s['errors']}"),
        (
            "soak coqidetop RSS start / end / peak (MiB)",
            f"{s['rss_start_mib']} / {s['rss_end_mib']} / {s['rss_peak_mib']}",
        ),
        ("soak median latency first / last 1,000 (ms)", f"{s['latency_first_ms']} / {s['latency_last_ms']}"),
        (
            "soak child processes before / during / after",
            f"{s['children_before']} / {s['children_during']} / {s['children_after']}",
        ),
        (
            "chaos theorems / faults injected / runs ended cleanly",
            f"{c['theorems']} / {c['faults_injected']} / {c['job_runs_ended_cleanly']} of 3",
        ),
        (
            "chaos proved: clean run / after chaos (same set)",
            f"{c['clean_proved']} / {c['chaos_proved']} ({c['same_proved_set']})",
        ),
        (
            "chaos results lost / duplicated / unsound proofs",
            f"{c['results_lost']} / {c['results_duplicated']} / {c['unsound_proofs']}",
        ),
        ("chaos processes leaked", str(c["processes_leaked"])),
    ]
    width = max(len(r[0]) for r in rows)
    table = "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)
    print("\n" + table)
    report["table"] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=sorted))
    print(f"\nwritten to {args.out}")
    bad = c["results_lost"] + c["results_duplicated"] + c["unsound_proofs"] + a["coq"]["sessions_lost"]
    sys.exit(1 if bad or not f["ok"] else 0)


if __name__ == "__main__":
    main()
