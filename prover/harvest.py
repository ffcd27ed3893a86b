"""Found proofs → traced training data (expert iteration's harvest).

Each `proved` results row is replayed step by step in a `CoqEnvironment`: the state before and after
every step becomes a `TracedTactic`, the theorem a `TheoremRecord` (LeanDojo schema), written with
`proofsmith.dataset`'s writer as a dataset whose `random/train.json` holds every harvested record
(no val/test: `num_eval=0`). That is what the k-NN builder (`knn:DIR`, `tactic_pairs`) and the
trainer (`TrainConfig(data=DIR)`) read. A proof whose replay does not finish (a step fails, times
out, or the proof does not close) is skipped and reported, never written half.

Records point back at their sources: `url` is the file URI of the theorem's directory and
`file_path` the file's name, so `benchmark.load_split(DIR, "random/train")` finds them again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.files import write_json
from proofsmith.dataset.loading import read_split, write_dataset
from proofsmith.dataset.schema import TheoremRecord, TracedTactic
from proofsmith.envs.base import EnvError, ProofFinished, TacticState
from proofsmith.envs.coq.env import CoqEnvironment
from proofsmith.envs.coq.source import locate
from proofsmith.prover.benchmark import BenchTheorem
from proofsmith.prover.status import SearchStatus

FINISHED = "no goals"  # state_after of the closing step, as the tracer writes it


@dataclass
class HarvestStats:
    rows: int = 0  # proved rows offered
    harvested: int = 0  # theorems written
    steps: int = 0  # traced tactics written
    multi_step: int = 0  # harvested proofs with >= 2 steps
    skipped: list[dict[str, str]] = field(default_factory=list)  # {theorem, reason}
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def proved_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows with a verified proof (status `proved` and a non-empty proof), one per key."""
    out: dict[str, Mapping[str, Any]] = {}
    for r in rows:
        if r.get("status") == SearchStatus.PROVED and r.get("proof") and r.get("key") not in out:
            out[str(r.get("key"))] = r
    return list(out.values())


def replay(env: CoqEnvironment, theorem: BenchTheorem, proof: Sequence[str], tactic_timeout: float) -> TheoremRecord:
    """Replay `proof`, recording the state before and after each step; raises `ValueError` (why)
    when a step does not give a state, or the last step does not finish the proof."""
    ref = theorem.ref
    source = locate(ref)
    state = env.start(ref)
    traced: list[TracedTactic] = []
    for i, step in enumerate(proof):
        try:
            result = env.run_tactic(state, step, timeout=tactic_timeout)
        except EnvError as e:
            raise ValueError(f"step {i + 1} {step!r}: {type(e).__name__}: {e}") from None
        last = i == len(proof) - 1
        if isinstance(result, ProofFinished):
            if not last:
                raise ValueError(f"step {i + 1} {step!r} finished the proof early")
            traced.append(TracedTactic(step, (step, ()), state.pp, FINISHED))
            break
        if not isinstance(result, TacticState):
            raise ValueError(f"step {i + 1} {step!r}: {getattr(result, 'message', type(result).__name__)}"[:300])
        if last:
            raise ValueError("the proof does not close")
        traced.append(TracedTactic(step, (step, ()), state.pp, result.pp))
        state = result
    path = Path(ref.file_path) if ref.file_path is not None else None
    line = source.text[: source.statement.start].count("\n") + 1
    return TheoremRecord(
        url=path.parent.as_uri() if path is not None else "",
        commit="",
        file_path=path.name if path is not None else f"{ref.name}.v",
        full_name=ref.name,
        start=(line, 1),
        end=None,
        traced_tactics=tuple(traced),
        theorem_statement=source.statement.text,
        backend="coq",
    )


def harvest(
    rows: Iterable[Mapping[str, Any]],
    theorems: Mapping[str, BenchTheorem],
    out: Path,
    tactic_timeout: float = 30.0,
    env: CoqEnvironment | None = None,
    additional_imports: Sequence[str] = (),
) -> HarvestStats:
    """Replay the proved rows among `rows` (theorems looked up by the row's `key`) and write the
    dataset to `out` (+ `harvest_stats.json`, and `proofs.jsonl`: key, theorem, proof of each record).
    `additional_imports`: what the search's environment put before each theorem (the generator's
    `required_imports`, e.g. Lia for `auto`), so the proof replays in the same context."""
    t0 = time.monotonic()
    out = Path(out)
    stats = HarvestStats()
    records: list[TheoremRecord] = []
    proofs: list[dict[str, Any]] = []
    own = env is None
    env = env or CoqEnvironment(tactic_timeout=tactic_timeout, additional_imports=tuple(additional_imports))
    try:
        for row in proved_rows(rows):
            stats.rows += 1
            key = str(row["key"])
            thm = theorems.get(key)
            if thm is None:
                stats.skipped.append({"theorem": key, "reason": "not in the pool"})
                continue
            try:
                rec = replay(env, thm, list(row["proof"]), tactic_timeout)
            except (ValueError, EnvError) as e:
                stats.skipped.append({"theorem": key, "reason": str(e)[:300]})
                continue
            records.append(rec)
            proofs.append({"key": key, "theorem": thm.ref.name, "proof": list(row["proof"])})
            stats.harvested += 1
            stats.steps += len(rec.traced_tactics)
            stats.multi_step += len(rec.traced_tactics) >= 2
    finally:
        if own:
            env.close()
    write_dataset(out, records, Corpus([]), {"backend": "coq", "kind": "harvested"}, num_eval=0)
    with open(out / "proofs.jsonl", "w", encoding="utf-8") as f:
        for p in proofs:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    stats.seconds = round(time.monotonic() - t0, 2)
    write_json(out / "harvest_stats.json", stats.to_json())
    return stats


def harvested_records(dirs: Iterable[Path]) -> list[TheoremRecord]:
    """The train records of harvested datasets (missing ones skipped)."""
    out: list[TheoremRecord] = []
    for d in dirs:
        f = Path(d) / "random" / "train.json"
        if f.is_file():
            out += read_split(f)
    return out
