"""Distributed proof search with Ray: one actor per worker, each owning an environment.

Theorems are dealt out one at a time. Results are appended to the JSONL file as each theorem ends;
a rerun skips what is there. A dead actor is replaced and its theorem retried once, then recorded
as an error. Local Ray by default; `RAY_ADDRESS` / `address=` joins a cluster.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, OutOfMemoryError, RayActorError, RayTaskError, WorkerCrashedError

from proofsmith.envs.limits import LIMIT_SLACK, START_TIMEOUT
from proofsmith.prover.benchmark import BenchTheorem
from proofsmith.prover.generators.base import TacticGenerator
from proofsmith.prover.results import ResultsFile
from proofsmith.prover.search import CRASH_CREDIT, SearchConfig
from proofsmith.prover.status import SearchStatus

log = logging.getLogger(__name__)

RETRIES = 1  # a theorem whose actor dies is dealt again once, then recorded as an error


class Terminated(KeyboardInterrupt):
    """SIGTERM during a job: unwinds like Ctrl-C (actors killed, results lock released)."""


TERMINATED = threading.Event()  # set once SIGTERM arrived (Ray may re-raise it as a plain KeyboardInterrupt)


def _raise_terminated(signum, frame) -> None:
    TERMINATED.set()
    raise Terminated()


# Beyond what a theorem may legitimately take (`actor_deadline`), how long an actor may stay silent
# before it is killed (generating candidates, starting a fresh actor's processes).
ACTOR_GRACE = 120.0


def actor_deadline(search: SearchConfig, grace: float = ACTOR_GRACE) -> float:
    """Seconds one theorem may hold an actor before the hung-actor watchdog kills it.

    A search whose calls all honour their limits ends within its budget + LIMIT_SLACK, plus what it
    may spend outside the budget: loading the theorem (its Requires) or, in its last call,
    rebuilding a state on a replaced prover (either up to START_TIMEOUT), and prover crashes (up to
    CRASH_CREDIT). The watchdog fires only past all of that plus `grace`, so it never kills a
    theorem whose calls honour their limits; a truly hung actor is still killed.
    """
    return search.theorem_timeout + LIMIT_SLACK + START_TIMEOUT + CRASH_CREDIT + grace


@dataclass(frozen=True)
class JobConfig:
    """A prove job's settings; frozen: derive variants with `dataclasses.replace`."""

    generator: str = "auto"
    workers: int = 2
    search: SearchConfig = field(default_factory=SearchConfig)
    backend: str = "coq"
    address: str | None = None
    actor_grace: float = ACTOR_GRACE
    # One shared generator actor batching requests from every prover (a GPU model), instead of one
    # generator inside each prover (CPU).
    shared_generator: bool = False
    generator_gpus: float = 0.0
    # A premise corpus (corpus.jsonl or a traced dataset dir): each actor builds a BM25 lookup on it
    # and the search passes every state's top premises to the generator (`prove --premises`).
    premises: str | None = None
    # `search` (best-first), `whole-proof` (sample + repair from Coq's errors) or `both` (`prove --mode`).
    mode: str = "search"  # = whole_proof.ProveMode
    num_proofs: int = 4  # = whole_proof.NUM_PROOFS
    repair_rounds: int = 2  # = whole_proof.REPAIR_ROUNDS
    # Stop dealing theorems once the generator server is unreachable (the rows so far are kept; a
    # rerun resumes), instead of recording an error for every theorem left.
    stop_when_generator_unavailable: bool = True

    def results_config(self) -> dict[str, Any]:
        """What decides the results, recorded beside the results file (`results.write_job_config`):
        not how many workers run them, or where."""
        return {
            "backend": self.backend,
            "generator": self.generator,
            "theorem_timeout": self.search.theorem_timeout,
            "tactic_timeout": self.search.tactic_timeout,
            "num_sampled_tactics": self.search.num_sampled_tactics,
            "max_expansions": self.search.max_expansions,
            **({"premises": self.premises} if self.premises else {}),
            **(
                {"mode": self.mode, "num_proofs": self.num_proofs, "repair_rounds": self.repair_rounds}
                if self.mode != "search"
                else {}
            ),
        }


class ProverWorker:
    """Runs inside a Ray actor process: one environment, one generator, theorems one at a time."""

    def __init__(
        self,
        generator_spec: str,
        search: dict[str, Any],
        backend: str,
        server: Any = None,
        premises: str | None = None,
        mode: str = "search",
        whole_proof: dict[str, Any] | None = None,
    ):
        from proofsmith.envs.coq import CoqEnvironment
        from proofsmith.prover.generators.factory import make_generator
        from proofsmith.prover.search import BestFirstSearch

        if backend != "coq":
            raise ValueError(f"backend {backend!r} cannot run here; only 'coq' is installed")
        self.config = SearchConfig(**search)
        generator: TacticGenerator
        if server is not None:
            from proofsmith.prover.model_server import RemoteGenerator

            generator = RemoteGenerator(server)
        else:
            generator = make_generator(generator_spec)
        self.env = CoqEnvironment(
            tactic_timeout=self.config.tactic_timeout,
            additional_imports=tuple(getattr(generator, "required_imports", ())),
        )
        lookup = None
        if premises:
            from proofsmith.prover.premise_lookup import build_lookup

            lookup = build_lookup(premises)
        self.search = BestFirstSearch(generator, self.config, premises=lookup)
        self.generator = generator
        self.mode = mode
        self.whole_proof = whole_proof or {}

    def pid(self) -> int:
        return os.getpid()

    def _prove(self, theorem: BenchTheorem) -> dict[str, Any]:
        from proofsmith.prover.search import BestFirstSearch
        from proofsmith.prover.whole_proof import ProveMode, WholeProofConfig, combine, whole_proof_search

        if self.mode == ProveMode.SEARCH:
            return self.search.search(self.env, theorem.ref).to_json()
        cfg = WholeProofConfig(
            **self.whole_proof, theorem_timeout=self.config.theorem_timeout, tactic_timeout=self.config.tactic_timeout
        )
        first = whole_proof_search(self.env, theorem.ref, self.generator, cfg)  # type: ignore[arg-type]
        if self.mode == ProveMode.WHOLE_PROOF or first["status"] in (
            SearchStatus.PROVED,
            SearchStatus.INVALID_STATEMENT,
            SearchStatus.ERROR,
        ):
            return {**first, "mode": self.mode}
        left = max(0.0, self.config.theorem_timeout - first["seconds"])
        search = BestFirstSearch(self.generator, replace(self.config, theorem_timeout=left), self.search.premises)
        second = {**search.search(self.env, theorem.ref).to_json(), "mode": ProveMode.SEARCH}
        return combine(first, second)

    def prove(self, theorem: BenchTheorem) -> dict[str, Any]:
        try:
            return self._prove(theorem)
        except Exception as e:  # a bug or an unexpected prover state: an error row, never a dead job
            import traceback

            from proofsmith.prover.generators.openai_client import GeneratorUnavailable

            row: dict[str, Any] = {
                "status": SearchStatus.ERROR,
                "message": f"{type(e).__name__}: {e}"[:500],
                "traceback": traceback.format_exc()[-2000:],
            }
            if isinstance(e, GeneratorUnavailable):
                row["generator_unavailable"] = True
            return row


def _ray_init(cfg: JobConfig) -> None:
    if ray.is_initialized():
        return
    address = cfg.address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(
            num_cpus=max(cfg.workers, 1),
            include_dashboard=False,
            log_to_driver=False,
            object_store_memory=256 * 1024**2,
            configure_logging=False,
        )


def run_job(
    theorems: Sequence[BenchTheorem],
    out: Path,
    cfg: JobConfig,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Prove `theorems`, appending one line per theorem to `out`; returns the rows written now."""
    written: list[dict[str, Any]] = []
    with ResultsFile(out) as results:
        done = results.done_keys()
        todo = [t for t in theorems if t.key not in done]
        if not todo:
            return written
        _ray_init(cfg)
        # After ray.init: Ray's core worker installs a SIGTERM handler that aborts the process.
        main_thread = threading.current_thread() is threading.main_thread()
        old_term = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None
        Actor = ray.remote(num_cpus=1, max_restarts=0)(ProverWorker)
        search = asdict(cfg.search)
        server: Any = None
        if cfg.shared_generator:
            from proofsmith.prover.model_server import GeneratorServer

            server = ray.remote(num_cpus=0, num_gpus=cfg.generator_gpus, max_restarts=-1)(GeneratorServer).remote(
                cfg.generator
            )

        whole = {"num_proofs": cfg.num_proofs, "repair_rounds": cfg.repair_rounds}

        def spawn():
            return Actor.remote(cfg.generator, search, cfg.backend, server, cfg.premises, cfg.mode, whole)

        n = min(cfg.workers, len(todo))
        actors = [spawn() for _ in range(n)]
        queue = list(reversed(todo))  # pop() deals in order
        inflight: dict[Any, tuple[int, BenchTheorem, int, float]] = {}
        deadline_per = actor_deadline(cfg.search, cfg.actor_grace)

        stopping: list[str] = []  # why no more theorems are dealt (the generator server went away)

        def deal(slot: int, item: tuple[BenchTheorem, int] | None = None) -> None:
            if item is None:
                if not queue or stopping:
                    return
                item = (queue.pop(), 0)
            thm, attempt = item
            ref = actors[slot].prove.remote(thm)
            inflight[ref] = (slot, thm, attempt, time.monotonic())

        def record(thm: BenchTheorem, row: dict[str, Any], attempt: int, slot: int) -> None:
            row = {
                "key": thm.key,
                "file": str(thm.ref.file_path),
                "note": thm.note,
                "attempt": attempt,
                "worker": slot,
                **row,
            }
            row["theorem"] = thm.ref.name
            if row.get("generator_unavailable") and cfg.stop_when_generator_unavailable and not stopping:
                stopping.append(str(row.get("message", "")))
                log.error(
                    "the generator is unavailable (%s); finishing the theorems in flight, dealing no more",
                    stopping[0][:200],
                )
            results.append(row)
            written.append(row)
            if on_result:
                on_result(row)

        try:
            for slot in range(n):
                deal(slot)
            while inflight:
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=5.0)
                now = time.monotonic()
                if not ready:
                    for slot, _thm, _attempt, started in list(inflight.values()):
                        if now - started > deadline_per:  # a hung actor: kill it, treat as a crash
                            ray.kill(actors[slot], no_restart=True)
                    continue
                ref = ready[0]
                slot, thm, attempt, _ = inflight.pop(ref)
                try:
                    row = ray.get(ref)
                except RayTaskError as e:  # raised inside the actor's method: record, do not retry
                    record(
                        thm, {"status": SearchStatus.ERROR, "message": f"{type(e).__name__}: {e}"[:500]}, attempt, slot
                    )
                    deal(slot)
                    continue
                except (RayActorError, WorkerCrashedError, GetTimeoutError, OutOfMemoryError) as e:
                    # Ray's memory monitor kills a worker when the node runs low: a crash like any other
                    try:
                        ray.kill(actors[slot], no_restart=True)
                    except Exception:
                        pass
                    actors[slot] = spawn()
                    if attempt < RETRIES:
                        deal(slot, (thm, attempt + 1))
                    else:
                        record(
                            thm,
                            {
                                "status": SearchStatus.ERROR,
                                "message": f"worker died twice: {type(e).__name__}: {e}"[:500],
                            },
                            attempt,
                            slot,
                        )
                        deal(slot)
                    continue
                record(thm, row, attempt, slot)
                deal(slot)
        finally:
            if server is not None:
                ray.kill(server, no_restart=True)
            for a in actors:
                try:
                    ray.kill(a, no_restart=True)
                except Exception:
                    pass
            if main_thread:
                signal.signal(signal.SIGTERM, old_term)
    return written
