"""In-actor vs served generation: states/s of the best-first search with 1 and 2 Ray workers.

In-actor: every prover actor loads the model (`hf:MODEL`). Served: one `proofsmith serve` process
holds it and every actor asks it over HTTP (`openai:NAME@URL`), its requests batched with the other
workers'. Same theorems (unprovable, so every search spends its whole expansion budget), same budget.

Writes `--out` (JSON) and the same path with `.md` (a table and a sizing note). The model is a tiny
scratch decoder trained here in a few seconds (or `--model`, a `proofsmith train` output); on this
machine everything runs on CPU, so "GPU utilisation" is recorded as absent, and CPU utilisation is
the machine's and the server process's, sampled during each run.

    python scripts/bench_serve.py --out bench_results/bench_serve.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger("bench_serve")

HARD = "Require Import Lia.\nTheorem h{i} : forall x y z : nat, x * x * y + z * {i} = y * y * x + z * z.\nProof.\nAdmitted.\n"
NAMES = ["n", "m", "k", "x", "y", "a", "b", "p", "q", "r", "s", "t"]


def train_tiny(out: Path) -> Path:
    """A tiny scratch decoder + LoRA (merged) that proposes lia-style tactics; seconds on one CPU."""
    import torch

    from proofsmith.dataset.corpus import Corpus
    from proofsmith.dataset.loading import write_dataset
    from proofsmith.dataset.schema import CorpusFile, TheoremRecord, TracedTactic
    from proofsmith.training.pipeline import TrainConfig, run_training

    torch.set_num_threads(1)
    # Several tactics per state, so the beams hold distinct steps that open new states (destruct,
    # induction, rewrite...): on the unprovable theorems below the search keeps expanding.
    steps = ["destruct {v}.", "destruct {w}.", "induction {v}.", "simpl.", "rewrite Nat.add_comm.",
             "rewrite Nat.mul_comm.", "lia.", "ring."]  # fmt: skip
    recs = []
    for i, v in enumerate(NAMES):
        w = NAMES[(i + 3) % len(NAMES)]
        pairs = [(f"⊢ forall {v} {w} : nat, {v} * {w} = {w} * {v} + {i}", "intros.")]
        pairs += [(f"{v}, {w} : nat\n⊢ {v} * {w} = {w} * {v} + {i}", s.format(v=v, w=w)) for s in steps]
        for j, (state, tac) in enumerate(pairs):
            step = TracedTactic(tac, (tac, ()), state, "")
            recs.append(
                TheoremRecord(
                    "", "", "B/L.v", f"B.L.t{i}_{j}", (i * 10 + j, 1), (i * 10 + j, 5), (step,), f"Lemma t{i}_{j} : x."
                )
            )
    data = out / "data"
    write_dataset(data, recs, Corpus([CorpusFile("B/L.v", (), ())]), {"backend": "coq"}, num_eval=3)
    model = out / "tiny"
    run_training(
        TrainConfig(
            data=data, out=model, config="tiny", stage1_steps=200, stage2_steps=150, batch_size=8, eval_every=1000,
            max_input_tokens=64, max_target_tokens=16, lr_pretrain=1e-2, lr_lora=1e-2, merge=True, progress=False,
            retriever="none", num_premises=0,
        )
    )  # fmt: skip
    return model


class Sampler:
    """CPU utilisation of the machine (all cores, %) and of one process tree, sampled every 0.5 s."""

    def __init__(self, pid: int | None = None):
        self.pid, self.machine, self.proc = pid, [], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process(self.pid) if self.pid else None
        psutil.cpu_percent(None)
        if proc:
            proc.cpu_percent(None)
        while not self._stop.wait(0.5):
            self.machine.append(psutil.cpu_percent(None))
            if proc:
                try:
                    self.proc.append(proc.cpu_percent(None))
                except psutil.Error:
                    pass

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float | None]:
        def mean(xs):
            return round(sum(xs) / len(xs), 1) if xs else None

        return {"machine_cpu_percent": mean(self.machine), "server_cpu_percent": mean(self.proc) if self.pid else None}


def start_server(model: Path, name: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("PROOFSMITH_SERVE_API_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "proofsmith.cli.main", "serve", "--model", str(model), "--port", "0",
         "--served-model-name", name, "--batch-wait-ms", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = proc.stdout.readline()
    m = re.search(r"(http://\S+/v1)", banner)
    if not m:
        proc.kill()
        raise RuntimeError(f"proofsmith serve did not start: {banner!r}")
    return proc, m.group(1)


def run_config(
    label: str, spec: str, workers: int, bench: Path, out_dir: Path, args, server_pid: int | None
) -> dict[str, Any]:
    from proofsmith.prover.benchmark import load_benchmark
    from proofsmith.prover.distributed import JobConfig, run_job
    from proofsmith.prover.search import SearchConfig

    out = out_dir / f"{label}-{workers}.jsonl"
    out.unlink(missing_ok=True)
    job = JobConfig(
        generator=spec,
        workers=workers,
        search=SearchConfig(
            theorem_timeout=args.theorem_timeout, num_sampled_tactics=args.num_tactics, max_expansions=args.expansions
        ),
    )
    stats_before = _server_stats(spec) if label == "served" else None
    t0 = time.monotonic()
    with Sampler(server_pid) as sampler:
        rows = run_job(load_benchmark(bench), out, job)
    wall = time.monotonic() - t0
    expansions = sum(r.get("expansions", 0) for r in rows)
    calls = sum(r.get("env_calls", 0) for r in rows)
    gen = sum(r.get("generate_seconds", 0.0) for r in rows)
    env_s = sum(r.get("env_seconds", 0.0) for r in rows)
    result = {
        "generation": label,
        "workers": workers,
        "theorems": len(rows),
        "statuses": sorted({str(r["status"]) for r in rows}),
        "wall_seconds": round(wall, 2),
        "expansions": expansions,
        "env_calls": calls,
        "states_per_second": round(expansions / wall, 2),
        "tactics_per_second": round(calls / wall, 2),
        # the same without starting Ray actors and loading models: expansions over the workers' search time
        "search_states_per_second": round(
            expansions / max(sum(r.get("seconds", 0.0) for r in rows) / workers, 1e-9), 2
        ),
        "generate_seconds_per_expansion": round(gen / max(expansions, 1), 4),
        "env_seconds_per_expansion": round(env_s / max(expansions, 1), 4),
        "gpu": "none (CPU-only machine)",
        **sampler.summary(),
    }
    if stats_before is not None:
        after = _server_stats(spec)
        sizes = after["batch_sizes"][len(stats_before["batch_sizes"]) :]
        result["server_mean_batch"] = round(sum(sizes) / len(sizes), 2) if sizes else None
        result["server_generate_seconds"] = round(after["generate_seconds"] - stats_before["generate_seconds"], 2)
    log.warning("%s x%d: %.2f states/s (%s)", label, workers, result["states_per_second"], result)
    return result


def _server_stats(spec: str) -> dict[str, Any]:
    import requests

    url = spec.split("@", 1)[1].split("#")[0].removesuffix("/v1")
    return requests.get(f"{url}/stats", timeout=10).json()


def sizing(results: list[dict[str, Any]]) -> str:
    served = [r for r in results if r["generation"] == "served"]
    if not served:
        return ""
    best = max(served, key=lambda r: r["workers"])
    g, e = best["generate_seconds_per_expansion"], best["env_seconds_per_expansion"]
    return (
        "states/s (wall) counts from the job's start (Ray actors, Coq, in-actor model loading); states/s (search) "
        "over the workers' search time only. "
        "Sizing: a search worker spends `env` seconds in Coq per expansion and waits `gen` seconds for its "
        "candidates. One generator server kept busy answers about B/t_batch expansions per second (B = mean batch "
        "size, t_batch = time of one batched model call); each worker asks for 1/(env + gen) per second. So one "
        "server feeds about N = (B / t_batch) x (env + gen) workers before it becomes the bottleneck; past that, "
        "add servers (or GPUs) rather than workers. "
        f"Measured here with {best['workers']} served workers: env = {e:.3f} s, gen = {g:.3f} s per expansion, "
        f"mean batch {best.get('server_mean_batch')}. On CPU the tiny model's call is not much cheaper batched, "
        "so N stays small; on a GPU a batch of 16-64 costs about as much as one prompt, which is what lets one "
        "GPU server feed tens of CPU search workers (BFS-Prover, InternLM-StepProver run this way)."
    )


def write_md(path: Path, results: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    lines = [
        "# In-actor vs served generation",
        "",
        f"{meta['theorems']} unprovable theorems, {meta['expansions']} expansions x {meta['num_tactics']} tactics each, "
        f"tiny scratch model, CPU ({meta['cpus']} cores), {meta['date']}.",
        "",
        "| generation | workers | states/s (wall) | states/s (search) | tactics/s (wall) | gen s/expansion | env s/expansion | machine CPU % | server CPU % | mean batch |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['generation']} | {r['workers']} | {r['states_per_second']} | {r['search_states_per_second']} | "
            f"{r['tactics_per_second']} | "
            f"{r['generate_seconds_per_expansion']} | {r['env_seconds_per_expansion']} | {r['machine_cpu_percent']} | "
            f"{r.get('server_cpu_percent') or '-'} | {r.get('server_mean_batch') or '-'} |"
        )
    lines += ["", "GPU: none on this machine.", "", sizing(results), ""]
    path.write_text("\n".join(lines))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("bench_results/bench_serve.json"))
    p.add_argument("--model", type=Path, default=None, help="a `proofsmith train` output (default: train a tiny one)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--theorems", type=int, default=4)
    p.add_argument("--expansions", type=int, default=25)
    p.add_argument("--num-tactics", type=int, default=8)
    p.add_argument("--theorem-timeout", type=float, default=60.0)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    import ray

    with tempfile.TemporaryDirectory(prefix="bench_serve_") as tmp:
        work = Path(tmp)
        model = args.model or train_tiny(work)
        bench = work / "bench"
        bench.mkdir()
        for i in range(1, args.theorems + 1):
            (bench / f"h{i}.v").write_text(HARD.format(i=i))
        ray.init(num_cpus=max(args.workers), include_dashboard=False, log_to_driver=False, configure_logging=False)
        results = []
        try:
            for w in args.workers:
                results.append(run_config("in-actor", f"hf:{model}", w, bench, work, args, None))
            server, url = start_server(model, "tiny")
            try:
                for w in args.workers:
                    results.append(
                        run_config("served", f"openai:tiny@{url}#temperature=0", w, bench, work, args, server.pid)
                    )
            finally:
                server.terminate()
                server.wait(30)
        finally:
            ray.shutdown()
    meta = {
        "theorems": args.theorems,
        "expansions": args.expansions,
        "num_tactics": args.num_tactics,
        "cpus": psutil.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "model": str(args.model) if args.model else "tiny scratch (trained by the script)",
    }
    args.out.write_text(json.dumps({"meta": meta, "results": results, "sizing": sizing(results)}, indent=1) + "\n")
    write_md(args.out.with_suffix(".md"), results, meta)
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
