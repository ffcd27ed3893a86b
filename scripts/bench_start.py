"""How many traced theorems the Coq environment can start (issue 16, item 4).

Starts every theorem of the chosen splits of a traced dataset (or a fixed random sample of them) with
`CoqEnvironment.start`, exactly as `proofsmith eval` does (`load_split` → `TheoremRef`), and writes the
start rate with the failures by reason to `<out>.json` and `<out>.md`.

Theorems are started in file order, so that consecutive starts in one file reuse the replayed prefix
(the environment cuts its live document back to the common prefix); each start is still a fresh,
independent `start` call whose result does not depend on the previous one. With `--workers N`, N
processes (one environment each) take whole files, biggest first.

Each outcome is appended to `<out>.outcomes.jsonl` as it comes; a run killed at any point and started
again with the same arguments skips the theorems already there, so the whole corpus can be measured
in pieces (`--fresh` starts over).

Usage:
    python scripts/bench_start.py --data runs/data/math --split random/test --out bench_results/bench_start
    python scripts/bench_start.py --data runs/data/stdlib --split random/train,random/val,random/test \\
        --sample 400 --seed 0 --out bench_results/bench_start_stdlib
    python scripts/bench_start.py --data runs/data/coq-debian --workers 2 \\
        --split novel_packages/train,novel_packages/val,novel_packages/test --out bench_results/bench_start_corpus
    python scripts/bench_start.py --data runs/data/coq-debian --workers 2 --sample-files 300 \\
        --split novel_packages/train,novel_packages/val,novel_packages/test --out bench_results/bench_start_files300
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import platform
import random
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from proofsmith.dataset.loading import read_split
from proofsmith.envs.base import EnvCrashError, EnvStartError, EnvTimeoutError, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.source import StartFailure, TheoremStartError
from proofsmith.prover.benchmark import load_split

log = logging.getLogger("bench_start")

STARTED = "started"
CRASH = "crash"  # coqidetop died while loading (twice: one retry, as the search does)
OTHER = "other_start_error"  # an EnvStartError without a reason (not raised by the Coq environment)


@dataclass(frozen=True)
class Item:
    full_name: str
    file_path: str
    start: tuple[int, int]
    split: str
    ref: TheoremRef
    traced_state: str | None  # the state before the first traced tactic: the goal right after `Proof.`


@dataclass(frozen=True)
class Outcome:
    full_name: str
    file_path: str
    start: tuple[int, int]
    split: str
    status: str  # STARTED, a StartFailure value, CRASH or OTHER
    seconds: float
    message: str = ""
    same_state: bool | None = None  # started: the goal is the traced one (None: no traced tactic to compare)


def load_items(data: Path, splits: list[str]) -> list[Item]:
    items: list[Item] = []
    for split in splits:
        records = list(read_split(data / f"{split}.json"))
        refs = load_split(data, split)
        if len(records) != len(refs):
            raise SystemExit(f"{split}: {len(records)} records but {len(refs)} theorems loaded")
        for rec, bt in zip(records, refs):
            first = rec.traced_tactics[0].state_before if rec.traced_tactics else None
            items.append(Item(rec.full_name, rec.file_path, rec.start or (0, 0), split, bt.ref, first))
    return items


def select_items(items: list[Item], files: str, sample_files: int, sample: int, seed: int) -> list[Item]:
    """The theorems to start: those of `files` (dataset paths, comma-separated) when given, then every theorem
    of `sample_files` random files, then a random sample of `sample` theorems (each 0: no selection)."""
    if files:
        wanted = {f.strip() for f in files.split(",") if f.strip()}
        missing = wanted - {it.file_path for it in items}
        if missing:
            raise SystemExit(f"--files: no traced theorem in {', '.join(sorted(missing))}")
        items = [it for it in items if it.file_path in wanted]
    if sample_files:
        paths = sorted({it.file_path for it in items})
        chosen = set(random.Random(seed).sample(paths, min(sample_files, len(paths))))
        items = [it for it in items if it.file_path in chosen]
    if sample and sample < len(items):
        items = random.Random(seed).sample(items, sample)
    return items


def start_one(env: CoqEnvironment, item: Item) -> Outcome:
    t0 = time.monotonic()
    status, message, same = STARTED, "", None
    try:
        try:
            state = env.start(item.ref)
        except EnvCrashError:  # the process died while loading: one fresh try, as the search does
            state = env.start(item.ref)
        if item.traced_state is not None:
            same = state.pp == item.traced_state
            if not same:
                message = f"started goal differs from the traced one: {state.pp[:300]!r}"
    except TheoremStartError as e:
        status, message = e.reason.value, str(e)
    except EnvStartError as e:
        status, message = OTHER, str(e)
    except (EnvCrashError, EnvTimeoutError) as e:
        status, message = CRASH, str(e)
    return Outcome(
        item.full_name,
        item.file_path,
        item.start,
        item.split,
        status,
        round(time.monotonic() - t0, 3),
        " ".join(message.split())[:600],
        same,
    )


def outcome_key(split: str, full_name: str, file_path: str, start) -> tuple:
    return (split, full_name, file_path, tuple(start))


def read_outcomes(path: Path) -> list[Outcome]:
    """What an earlier run of the same benchmark wrote (a torn last line, from a kill, is dropped)."""
    out: list[Outcome] = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.append(Outcome(**{**d, "start": tuple(d["start"])}))
    return out


_ENV: CoqEnvironment | None = None


def _worker_init(start_timeout: float) -> None:
    global _ENV
    _ENV = CoqEnvironment(start_timeout=start_timeout)


def _start_file(items: list[Item]) -> list[Outcome]:
    assert _ENV is not None
    return [start_one(_ENV, item) for item in items]


def run_items(items: list[Item], workers: int, start_timeout: float, sink) -> None:
    """Start every item, one file per task; `sink(outcome)` gets each outcome as its file finishes."""
    by_file: dict[str, list[Item]] = {}
    for item in items:
        by_file.setdefault(str(item.ref.file_path), []).append(item)
    groups = sorted(by_file.values(), key=len, reverse=True)
    bar = tqdm(total=len(items), desc="start", unit="thm")
    if workers <= 1:
        with CoqEnvironment(start_timeout=start_timeout) as env:
            for group in groups:
                for item in group:
                    sink(start_one(env, item))
                    bar.update(1)
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_worker_init, initargs=(start_timeout,), maxtasksperchild=200) as pool:
            for outcomes in pool.imap_unordered(_start_file, groups):
                for o in outcomes:
                    sink(o)
                bar.update(len(outcomes))
    bar.close()


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def write_markdown(path: Path, summary: dict, failures: list[Outcome], differing: list[Outcome]) -> None:
    lines = [
        "# Starting traced theorems in the Coq environment",
        "",
        f"Data `{summary['data']}`, splits `{', '.join(summary['splits'])}`"
        + (f", files {', '.join(summary['files'])}" if summary.get("files") else "")
        + (
            f", every theorem of a random sample of {summary['sample_files']} files (seed {summary['seed']})"
            if summary.get("sample_files")
            else ""
        )
        + (f", random sample of {summary['sample']} (seed {summary['seed']})" if summary["sample"] else "")
        + f"; commit `{summary['commit']}`, {summary['machine']}.",
        "",
        "| theorems | started | rate | goal as traced | wall (s) | workers | starts in all (s) | median start (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {summary['theorems']} | {summary['started']} | {summary['start_rate'] * 100:.2f} % | "
        f"{summary['goal_as_traced']}/{summary['goal_compared']} | "
        f"{summary['wall_seconds']:.0f} | {summary.get('workers', 1)} | {summary.get('start_seconds_total', '-')} | "
        f"{summary['median_start_seconds']:.2f} |",
        "",
        *(
            [
                f"*wall*: of the last run; {summary['resumed']} theorems were started by earlier runs of the same command.",
                "",
            ]
            if summary.get("resumed")
            else []
        ),
        "*goal as traced*: started theorems whose first goal is exactly the traced state before their first tactic.",
        "",
        "## Failures by reason",
        "",
    ]
    if not failures:
        lines.append("None.")
    else:
        lines += ["| reason | theorems |", "|---|---:|"]
        lines += [f"| {reason} | {n} |" for reason, n in summary["failures_by_reason"].items()]
        lines += ["", "| theorem | file:line | reason | message |", "|---|---|---|---|"]
        for f in failures:
            msg = f.message[:200].replace("|", "\\|")
            lines.append(f"| `{f.full_name}` | {f.file_path}:{f.start[0]} | {f.status} | {msg} |")
    if differing:
        lines += ["", "## Started, but the goal differs from the traced one", ""]
        lines += ["| theorem | file:line | started goal |", "|---|---|---|"]
        for f in differing:
            lines.append(
                f"| `{f.full_name}` | {f.file_path}:{f.start[0]} | {f.message[:200].replace('|', chr(92) + '|')} |"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="traced dataset directory")
    ap.add_argument("--split", default="random/test", help="comma-separated splits (random/test,random/train...)")
    ap.add_argument("--sample", type=int, default=0, help="a fixed random sample of N theorems (0: all)")
    ap.add_argument(
        "--sample-files",
        type=int,
        default=0,
        help="every theorem of a fixed random sample of N files (0: all files); cheaper than --sample, since a "
        "start replays its file up to the theorem",
    )
    ap.add_argument(
        "--files", default="", help="only the theorems of these files (comma-separated dataset paths, e.g. HoTT/A.v)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start-timeout", type=float, default=180.0, help="limit of one start, s")
    ap.add_argument("--workers", type=int, default=1, help="parallel environments (each takes whole files)")
    ap.add_argument("--fresh", action="store_true", help="ignore the outcomes an earlier run wrote")
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_start"), help="output stem (.json, .md)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    splits = [s.strip() for s in args.split.split(",") if s.strip()]
    items = select_items(load_items(args.data, splits), args.files, args.sample_files, args.sample, args.seed)
    items.sort(key=lambda it: (str(it.ref.file_path), it.start))

    log_path = Path(f"{args.out}.outcomes.jsonl")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        log_path.unlink(missing_ok=True)
    wanted = {outcome_key(it.split, it.full_name, it.file_path, it.start): it for it in items}
    outcomes = [o for o in read_outcomes(log_path) if outcome_key(o.split, o.full_name, o.file_path, o.start) in wanted]
    done = {outcome_key(o.split, o.full_name, o.file_path, o.start) for o in outcomes}
    todo = [it for k, it in wanted.items() if k not in done]
    if outcomes:
        log.info(
            "%d of %d theorems started by an earlier run (%s); %d to go", len(done), len(items), log_path, len(todo)
        )
    t0 = time.monotonic()
    with open(log_path, "a", encoding="utf-8") as sink:

        def record(o: Outcome) -> None:
            outcomes.append(o)
            sink.write(json.dumps(asdict(o), ensure_ascii=False) + "\n")
            sink.flush()

        run_items(todo, args.workers, args.start_timeout, record)
    wall = time.monotonic() - t0

    failures = [o for o in outcomes if o.status != STARTED]
    compared = [o for o in outcomes if o.same_state is not None]
    differing = [o for o in compared if not o.same_state]
    by_reason = Counter(o.status for o in failures)
    times = sorted(o.seconds for o in outcomes)
    summary = {
        "data": str(args.data),
        "splits": splits,
        "files": [f.strip() for f in args.files.split(",") if f.strip()],
        "sample_files": args.sample_files or None,
        "sample": args.sample or None,
        "seed": args.seed,
        "commit": git_commit(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "theorems": len(outcomes),
        "started": len(outcomes) - len(failures),
        "start_rate": (len(outcomes) - len(failures)) / len(outcomes) if outcomes else 0.0,
        "wall_seconds": round(wall, 1),  # of this run only: a resumed run did the rest before
        "resumed": len(done),
        "workers": args.workers,
        "start_seconds_total": round(sum(o.seconds for o in outcomes), 1),
        "median_start_seconds": times[len(times) // 2] if times else 0.0,
        "failures_by_reason": dict(by_reason.most_common()),
        # of the started theorems with a traced tactic, how many opened exactly the traced goal
        "goal_compared": len(compared),
        "goal_as_traced": len(compared) - len(differing),
        "reasons": [r.value for r in StartFailure] + [CRASH, OTHER],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{args.out}.json").write_text(
        json.dumps(
            {
                "summary": summary,
                "failures": [asdict(f) for f in failures],
                "goal_differs": [asdict(f) for f in differing],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    write_markdown(Path(f"{args.out}.md"), summary, failures, differing)
    log.info(
        "started %d/%d (%.2f %%) in %.0f s; failures by reason: %s; goal as traced: %d/%d",
        summary["started"],
        summary["theorems"],
        100 * summary["start_rate"],
        wall,
        dict(by_reason) or "none",
        summary["goal_as_traced"],
        summary["goal_compared"],
    )


if __name__ == "__main__":
    main()
