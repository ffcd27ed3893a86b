"""Generator evaluation on held-out traced steps: top-1 / top-k exact match, and whether the top-k
tactics run without error in the environment (execution success, on a sample of steps)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from proofsmith.dataset.schema import TheoremRecord
from proofsmith.prover.generators.base import Candidate
from proofsmith.prover.generators.prompt import normalize_tactic


class Memo:
    """Caches a generator's answers, so an ensemble evaluated after its members costs no new generation."""

    def __init__(self, gen: Any):
        self.gen = gen
        self.cache: dict[tuple, list[Candidate]] = {}
        self.required_imports = getattr(gen, "required_imports", ())

    def generate_batch(self, states, premises, num):
        keys = [(s, tuple(p), num) for s, p in zip(states, premises)]
        todo = [i for i, k in enumerate(keys) if k not in self.cache]
        if todo:
            new = self.gen.generate_batch([states[i] for i in todo], [premises[i] for i in todo], num)
            self.cache.update({keys[i]: c for i, c in zip(todo, new)})
        return [self.cache[k] for k in keys]

    def generate(self, state, premises, num):
        return self.generate_batch([state], [premises], num)[0]


@dataclass(frozen=True)
class HeldOutStep:
    record: TheoremRecord
    index: int  # position in record.traced_tactics

    @property
    def state(self) -> str:
        return self.record.traced_tactics[self.index].state_before

    @property
    def tactic(self) -> str:
        return self.record.traced_tactics[self.index].tactic


@dataclass
class GeneratorScores:
    steps: int = 0
    top1: float = 0.0
    topk: float = 0.0
    seconds: float = 0.0
    exec_steps: int = 0
    exec_top1: float | None = None
    exec_topk: float | None = None
    exec_replay_failed: int = 0
    extra: dict = field(default_factory=dict)


def held_out_steps(records: Sequence[TheoremRecord], limit: int | None, seed: int = 0) -> list[HeldOutStep]:
    steps = [
        HeldOutStep(r, i)
        for r in records
        for i, t in enumerate(r.traced_tactics)
        if t.state_before.strip() and t.tactic.strip()
    ]
    if limit is not None and len(steps) > limit:
        steps = random.Random(seed).sample(steps, limit)
    return steps


def generate_all(
    gen: Any,
    steps: Sequence[HeldOutStep],
    premises: Callable[[HeldOutStep], list[str]],
    k: int,
    batch: int = 16,
    progress: bool = False,
) -> list[list[Candidate]]:
    out: list[list[Candidate]] = []
    it: Iterable[int] = range(0, len(steps), batch)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc=type(gen).__name__, unit="batch")
    for i in it:
        chunk = steps[i : i + batch]
        out += gen.generate_batch([s.state for s in chunk], [premises(s) for s in chunk], k)
    return out


def exact_match(cands: Sequence[list[Candidate]], steps: Sequence[HeldOutStep], k: int) -> tuple[float, float]:
    hit1 = hitk = 0
    for cs, s in zip(cands, steps):
        gold = normalize_tactic(s.tactic)
        keys = [normalize_tactic(t) for t, _ in cs[:k]]
        hit1 += bool(keys) and keys[0] == gold
        hitk += gold in keys
    n = max(len(steps), 1)
    return hit1 / n, hitk / n


def resolve_source(record: TheoremRecord, roots: Sequence[Path] = ()) -> Path | None:
    """The .v file a record came from: under its `url` (a file:// URI) or one of `roots`, trying the
    path with leading logical components dropped (`Coq/Lists/List.v` lives at `…/theories/Lists/List.v`)."""
    bases = list(roots)
    if record.url.startswith("file://"):
        bases.insert(0, Path(urlparse(record.url).path))
    parts = Path(record.file_path).parts
    for base in bases:
        for i in range(len(parts)):
            p = base.joinpath(*parts[i:])
            if p.is_file():
                return p
    return None


def execution_success(
    env: Any,
    steps: Sequence[HeldOutStep],
    cands: Sequence[list[Candidate]],
    k: int,
    roots: Sequence[Path] = (),
    timeout: float = 10.0,
) -> dict:
    """Replay each sampled step's proof prefix, then run the top-k candidates at its state.
    A candidate succeeds when the prover accepts it (a new state or a finished proof)."""
    from proofsmith.envs.base import ProofFinished, TacticState, TheoremRef

    ok1 = okk = tried = replay_failed = 0
    by_theorem: dict[tuple[str, str], list[int]] = {}
    for j, s in enumerate(steps):
        by_theorem.setdefault(s.record.key, []).append(j)
    for _key, idxs in by_theorem.items():
        rec = steps[idxs[0]].record
        src = resolve_source(rec, roots)
        if src is None:
            replay_failed += len(idxs)
            continue
        try:
            state = env.start(TheoremRef.from_file(src, rec.full_name))
            states = [state]
            for t in rec.traced_tactics[: max(steps[j].index for j in idxs)]:
                nxt = env.run_tactic(states[-1], t.tactic, timeout)
                if not isinstance(nxt, TacticState):
                    break
                states.append(nxt)
        except Exception:  # a theorem the environment cannot open is not the generator's failure
            replay_failed += len(idxs)
            continue
        for j in idxs:
            i = steps[j].index
            if i >= len(states):
                replay_failed += 1
                continue
            tried += 1
            results = []
            for tactic, _ in cands[j][:k]:
                try:
                    r = env.run_tactic(states[i], tactic, timeout)
                except Exception:
                    r = None
                results.append(isinstance(r, (TacticState, ProofFinished)))
            ok1 += bool(results) and results[0]
            okk += any(results)
    n = max(tried, 1)
    return {
        "exec_steps": tried,
        "exec_top1": ok1 / n if tried else None,
        "exec_topk": okk / n if tried else None,
        "exec_replay_failed": replay_failed,
    }


def evaluate_generators(
    generators: dict[str, Any],
    split_records: dict[str, Sequence[TheoremRecord]],
    k: int,
    max_steps: int | None,
    premises: Callable[[HeldOutStep], list[str]],
    env_factory: Callable[[], Any] | None = None,
    exec_sample: int = 0,
    roots: Sequence[Path] = (),
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """{split: {generator: GeneratorScores}} over held-out steps of each split."""
    table: dict[str, dict[str, GeneratorScores]] = {}
    for split, recs in split_records.items():
        steps = held_out_steps(recs, max_steps, seed)
        exec_idx = sorted(random.Random(seed + 1).sample(range(len(steps)), min(exec_sample, len(steps))))
        table[split] = {}
        for name, gen in generators.items():
            t0 = time.time()
            cands = generate_all(gen, steps, premises, k, progress=progress)
            sc = GeneratorScores(len(steps), *exact_match(cands, steps, k), seconds=round(time.time() - t0, 1))
            if env_factory is not None and exec_idx:
                env = env_factory()
                try:
                    ex = execution_success(env, [steps[i] for i in exec_idx], [cands[i] for i in exec_idx], k, roots)
                finally:
                    env.close()
                sc.exec_steps, sc.exec_top1, sc.exec_topk = ex["exec_steps"], ex["exec_top1"], ex["exec_topk"]
                sc.exec_replay_failed = ex["exec_replay_failed"]
            table[split][name] = sc
    return table


def format_table(table: dict[str, dict[str, GeneratorScores]], k: int) -> str:
    head = f"| split | generator | steps | top-1 | top-{k} | exec top-1 | exec top-{k} (n) | s |"
    lines = [head, "|" + "---|" * 8]
    pct = lambda v: "–" if v is None else f"{100 * v:.1f}%"  # noqa: E731
    for split, rows in table.items():
        for name, s in rows.items():
            lines.append(
                f"| {split} | {name} | {s.steps} | {pct(s.top1)} | {pct(s.topk)} | {pct(s.exec_top1)} | "
                f"{pct(s.exec_topk)} ({s.exec_steps}) | {s.seconds} |"
            )
    return "\n".join(lines)
