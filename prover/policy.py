"""A learned policy over a tactic portfolio: which candidates work on a goal of this shape, and how
long they take, fitted from the attempt logs of earlier searches.

Data: every attempt of a kept search tree (`SearchConfig(keep_tree=True)`; results rows with a
`tree`) is one (state pp, tactic, outcome, seconds) record. An attempt earns *credit* 1 when it
closed the proof (`proof`) and `state_value` (0.25) when it made a new state (`state`: progress, not
yet a proof), else 0; it *timed out* when the prover hit the tactic's limit (a `Timeout!` error, or
a crash on a hang). p_T below is a tactic's expected credit, "success" for short.

Model (k nearest states, no training loop, robust on a few hundred theorems): a state is a vector,
the TF-IDF of its canonical tokens (`generators.tfidf.TfidfEncoder`) joined with a few goal-shape
features (sorts, relation, non-linear products, division, goal count...), cosine-weighted
`(1 - shape_weight) : shape_weight`. For a new state the `neighbours` most similar logged states
vote, each with weight `exp((cos - 1) / temperature)`; for every candidate tactic T

    n_T = Σ w_i tries_i(T),  p_T = (Σ w_i credit_i(T) + m · P_T) / (n_T + m),
    t_T = (Σ w_i seconds_i(T) + m · S_T) / (n_T + m)

backed off (`m` = `prior_strength` pseudo-tries) to T's global credit rate P_T and mean time S_T,
themselves backed off (`global_strength` pseudo-tries) to the rates over all attempts. A tactic never
logged takes the rates of the same tactic without its `intros; ` prefix, else the overall ones.

Score: trying candidates one by one until the first success costs least, in expectation, when they
go in decreasing order of p_T / t_T (the classic rule for testing independent alternatives), so

    logit_T = log p_T - λ · log max(t_T, min_seconds) + inner_weight · inner_score_T

with λ = `time_weight` (1: the expected-cost-optimal order; 0: success rate only), and the scores
returned are the log-softmax of the logits over the kept candidates (log-probabilities, as best-first
search sums them along a path). `inner_weight` keeps the inner generator's order among tactics the
policy cannot tell apart (never logged). A candidate is dropped when the policy is confident it is
hopeless and slow: p_T < `drop_below` with n_T ≥ `min_evidence` neighbour tries and
t_T ≥ `drop_slower_than` seconds (a fast failure costs little, so it is kept).

Saved as a directory: `policy.json` (config, tactic vocabulary, counts), `tfidf.json` (the
encoder), `arrays.npz` (state vectors and the per-state, per-tactic tries / successes / proofs /
timeouts / seconds).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from proofsmith.prover.generators.base import Candidate, TacticGenerator, for_theorem
from proofsmith.prover.generators.prompt import normalize_tactic
from proofsmith.prover.generators.state_text import first_goal
from proofsmith.prover.generators.tfidf import TfidfEncoder
from proofsmith.prover.status import AttemptOutcome, is_timeout

POLICY_META = "policy.json"
ARRAYS = "arrays.npz"
ENCODER = "tfidf.json"
FORMAT_VERSION = 1

SUCCESS = (AttemptOutcome.PROOF, AttemptOutcome.STATE)
INTROS_PREFIX = "intros; "


@dataclass(frozen=True)
class PolicyConfig:
    neighbours: int = 8  # logged states that vote
    temperature: float = 0.5  # neighbour weight exp((cos - 1) / temperature)
    shape_weight: float = 0.3  # share of the goal-shape features in the cosine
    max_features: int = 2048  # TF-IDF vocabulary
    state_value: float = 0.25  # credit of an attempt that made a new state (a proof counts 1)
    prior_strength: float = 1.0  # m: pseudo-tries of a tactic's global rates behind its neighbours' rates
    global_strength: float = 1.0  # pseudo-tries of the overall rates behind a tactic's global rates
    time_weight: float = 1.0  # λ
    min_seconds: float = 0.05  # times below this count as this (no ranking on noise among instant tactics)
    inner_weight: float = 0.1  # the inner generator's score, as a tie-breaker
    drop_below: float = 0.1  # drop when p < this ...
    min_evidence: float = 3.0  # ... after at least this many (weighted) neighbour tries ...
    drop_slower_than: float = 1.0  # ... and the tactic is predicted this slow (s)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PolicyConfig:
        return cls(**{f.name: type(getattr(cls(), f.name))(d[f.name]) for f in fields(cls) if f.name in d})


@dataclass(frozen=True)
class AttemptRecord:
    state: str
    tactic: str
    outcome: str
    seconds: float
    timed_out: bool = False

    @property
    def success(self) -> bool:
        return self.outcome in SUCCESS


@dataclass(frozen=True)
class Prediction:
    tactic: str
    p_success: float
    seconds: float
    evidence: float  # weighted neighbour tries
    logit: float
    dropped: bool


def attempts_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[AttemptRecord]:
    """The attempt records of every results row that kept its search tree."""
    out: list[AttemptRecord] = []
    for row in rows:
        tree = row.get("tree")
        if not isinstance(tree, Mapping):
            continue
        pps = {int(n["id"]): str(n["pp"]) for n in tree.get("nodes", [])}
        for a in tree.get("attempts", []):
            pp = pps.get(int(a.get("parent", -1)))
            tactic = str(a.get("tactic", "")).strip()
            if pp is None or not tactic:
                continue
            outcome = str(a.get("outcome", ""))
            out.append(
                AttemptRecord(
                    pp, tactic, outcome, float(a.get("seconds") or 0.0), is_timeout(outcome, a.get("message", ""))
                )
            )
    return out


def read_attempts(paths: Iterable[str | Path]) -> list[AttemptRecord]:
    from proofsmith.prover.results import read_results

    rows: list[dict[str, Any]] = []
    for p in paths:
        rows += read_results(Path(p))
    return attempts_from_rows(rows)


def tactic_key(tactic: str) -> str:
    return normalize_tactic(tactic)


# ---------------------------------------------------------------------- goal-shape features
_SORT = {"R": re.compile(r"\bR\b|%R|\bINR\b|\bIZR\b"), "Z": re.compile(r"\bZ\b|%Z"), "nat": re.compile(r"\bnat\b|%nat")}
_VAR = r"[A-Za-z_][\w']*"
_NONLINEAR = re.compile(rf"(?:\b{_VAR}|\))\s*\*\s*(?:{_VAR}\b|\()|\^")
SHAPE_FEATURES = (
    "sort_R",
    "sort_Z",
    "sort_nat",
    "eq",
    "lt_le",
    "neq",
    "and",
    "or",
    "iff",
    "impl",
    "forall",
    "exists",
    "nonlinear",
    "division",
    "abs_sqrt",
    "mod_div",
    "function_app",
    "many_goals",
    "many_hyps",
    "no_hyps",
)


def shape_features(pp: str) -> np.ndarray:
    """A small 0/1 description of the first goal's shape (see SHAPE_FEATURES)."""
    goal = first_goal(pp)
    concl = goal.split("⊢", 1)[1] if "⊢" in goal else goal
    hyps = [h for h in goal.split("⊢", 1)[0].splitlines() if ":" in h and not h.startswith(" ")] if "⊢" in goal else []
    f = {
        "sort_R": bool(_SORT["R"].search(goal)),
        "sort_Z": bool(_SORT["Z"].search(goal)),
        "sort_nat": bool(_SORT["nat"].search(goal)),
        "eq": "=" in concl.replace("<=", "").replace(">=", ""),
        "lt_le": any(s in concl for s in ("<", ">")),
        "neq": "<>" in concl or "~" in concl,
        "and": "/\\" in concl,
        "or": "\\/" in concl,
        "iff": "<->" in concl,
        "impl": "->" in concl,
        "forall": "forall" in concl,
        "exists": "exists" in concl,
        "nonlinear": bool(_NONLINEAR.search(concl)),
        "division": "/" in concl.replace("/\\", "").replace("\\/", ""),
        "abs_sqrt": any(w in goal for w in ("Rabs", "sqrt", "Rpower", "ln", "exp")),
        "mod_div": any(w in goal for w in (" mod ", "Z.modulo", "Nat.modulo", "Z.div", "Nat.div", "Z.gcd", "Nat.gcd")),
        "function_app": bool(re.search(r"\b[a-z]\w*\s*:\s*\w+\s*->", goal)),
        "many_goals": "\n\n" in pp.strip(),
        "many_hyps": len(hyps) > 6,
        "no_hyps": not hyps,
    }
    return np.array([float(f[k]) for k in SHAPE_FEATURES], dtype=np.float32)


class StateFeatures:
    """TF-IDF of the first goal's canonical tokens joined with the goal-shape features; unit rows, so
    a dot product is `(1 - shape_weight) · cos_tfidf + shape_weight · cos_shape`."""

    def __init__(self, tfidf: TfidfEncoder, shape_weight: float):
        self.tfidf = tfidf
        self.shape_weight = shape_weight

    def encode(self, states: Sequence[str]) -> np.ndarray:
        t = self.tfidf.encode(states)
        s = np.stack([shape_features(pp) for pp in states]) if states else np.zeros((0, len(SHAPE_FEATURES)))
        s = s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 1e-12)
        w = float(self.shape_weight)
        out = np.concatenate([t * math.sqrt(1.0 - w), s.astype(np.float32) * math.sqrt(w)], axis=1)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


# ---------------------------------------------------------------------- the policy
class PortfolioPolicy:
    def __init__(
        self,
        config: PolicyConfig,
        tactics: Sequence[str],
        encoder: TfidfEncoder,
        vectors: np.ndarray,
        counts: Mapping[str, np.ndarray],
    ):
        self.config = config
        self.tactics = list(tactics)
        self.index = {t: j for j, t in enumerate(self.tactics)}
        self.encoder = encoder
        self.features = StateFeatures(encoder, config.shape_weight)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        # per (logged state, tactic): tries, successes, proofs, timeouts, seconds
        self.counts = {
            k: np.asarray(counts[k], dtype=np.float32) for k in ("tries", "succ", "proofs", "timeouts", "secs")
        }
        tries, secs, proofs = self.counts["tries"], self.counts["secs"], self.counts["proofs"]
        # credit per (state, tactic): 1 per proof, state_value per new state
        self.value = proofs + config.state_value * (self.counts["succ"] - proofs)
        succ = self.value
        n_all = max(float(tries.sum()), 1.0)
        self.p_all = float(succ.sum()) / n_all if tries.sum() else 0.5
        self.t_all = float(secs.sum()) / n_all if tries.sum() else 1.0
        g = config.global_strength
        n_t = tries.sum(axis=0)
        self.p_global = (succ.sum(axis=0) + g * self.p_all) / (n_t + g)
        self.t_global = (secs.sum(axis=0) + g * self.t_all) / (n_t + g)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, records: Sequence[AttemptRecord], config: PolicyConfig = PolicyConfig()) -> PortfolioPolicy:
        state_ids: dict[str, int] = {}
        tactic_ids: dict[str, int] = {}
        for r in records:
            state_ids.setdefault(r.state, len(state_ids))
            tactic_ids.setdefault(tactic_key(r.tactic), len(tactic_ids))
        states = list(state_ids)
        shape = (len(states), len(tactic_ids))
        counts = {k: np.zeros(shape, dtype=np.float32) for k in ("tries", "succ", "proofs", "timeouts", "secs")}
        for r in records:
            i, j = state_ids[r.state], tactic_ids[tactic_key(r.tactic)]
            counts["tries"][i, j] += 1
            counts["succ"][i, j] += r.success
            counts["proofs"][i, j] += r.outcome == AttemptOutcome.PROOF
            counts["timeouts"][i, j] += r.timed_out
            counts["secs"][i, j] += max(r.seconds, 0.0)
        encoder = TfidfEncoder.fit(states, config.max_features)
        vectors = StateFeatures(encoder, config.shape_weight).encode(states)
        return cls(config, list(tactic_ids), encoder, vectors, counts)

    def with_config(self, **changes: Any) -> PortfolioPolicy:
        """The same fitted data under other settings (`drop_below`, `time_weight`...); the encoding
        settings (`max_features`, `shape_weight`) are those of the fit."""
        config = replace(self.config, **changes)
        config = replace(config, max_features=self.config.max_features, shape_weight=self.config.shape_weight)
        return PortfolioPolicy(config, self.tactics, self.encoder, self.vectors, self.counts)

    # ------------------------------------------------------------------ prediction
    def _neighbour_stats(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weighted tries, credit (proofs + state_value · new states) and seconds per known tactic among the nearest logged states."""
        n_t = len(self.tactics)
        if not len(self.vectors) or not n_t:
            z = np.zeros(n_t, dtype=np.float64)
            return z, z, z
        sims = self.vectors @ query
        k = min(self.config.neighbours, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        w = np.exp((np.minimum(sims[top], 1.0) - 1.0) / self.config.temperature).astype(np.float64)
        return (
            w @ self.counts["tries"][top],
            w @ self.value[top],
            w @ self.counts["secs"][top],
        )

    def _predict_one(self, query: np.ndarray, tactics: Sequence[str], inner: Sequence[float]) -> list[Prediction]:
        cfg = self.config
        n, s, t = self._neighbour_stats(query)
        m = cfg.prior_strength
        out = []
        for tactic, inner_score in zip(tactics, inner):
            key = tactic_key(tactic)
            j = self.index.get(key)
            if j is None and key.startswith(INTROS_PREFIX):
                j = self.index.get(key[len(INTROS_PREFIX) :])
            if j is None:
                p, secs, ev = self.p_all, self.t_all, 0.0
            else:
                ev = float(n[j])
                p = (float(s[j]) + m * float(self.p_global[j])) / (ev + m)
                secs = (float(t[j]) + m * float(self.t_global[j])) / (ev + m)
            p = min(max(p, 1e-6), 1.0)
            logit = math.log(p) - cfg.time_weight * math.log(max(secs, cfg.min_seconds))
            logit += cfg.inner_weight * float(inner_score)
            dropped = p < cfg.drop_below and ev >= cfg.min_evidence and secs >= cfg.drop_slower_than
            out.append(Prediction(tactic, p, secs, ev, logit, dropped))
        return out

    def predict(
        self, state_pp: str, tactics: Sequence[str], inner_scores: Sequence[float] | None = None
    ) -> list[Prediction]:
        """The policy's view of each candidate tactic on this state, in the order given."""
        query = self.features.encode([state_pp])[0]
        return self._predict_one(query, tactics, inner_scores or [0.0] * len(tactics))

    def rerank_batch(
        self, states: Sequence[str], candidates: Sequence[Sequence[Candidate]], num: int
    ) -> list[list[Candidate]]:
        if not states:
            return []
        queries = self.features.encode(list(states))
        out: list[list[Candidate]] = []
        for q, cands in zip(queries, candidates):
            preds = self._predict_one(q, [c[0] for c in cands], [c[1] for c in cands])
            kept = [p for p in preds if not p.dropped]
            if not kept:
                out.append([])
                continue
            top = max(p.logit for p in kept)
            z = top + math.log(sum(math.exp(p.logit - top) for p in kept))
            ranked = sorted(((p.tactic, p.logit - z) for p in kept), key=lambda c: -c[1])
            out.append(ranked[:num])
        return out

    def rerank(self, state_pp: str, candidates: Sequence[Candidate], num: int) -> list[Candidate]:
        return self.rerank_batch([state_pp], [candidates], num)[0]

    def tactic_table(self) -> list[dict[str, Any]]:
        """Each known tactic's global tries, success and timeout rates, mean seconds (most tried first)."""
        tries = self.counts["tries"].sum(axis=0)
        rows = []
        for j, t in enumerate(self.tactics):
            n = float(tries[j])
            rows.append(
                {
                    "tactic": t,
                    "tries": int(n),
                    "success_rate": round(float(self.counts["succ"][:, j].sum()) / n, 3) if n else None,
                    "proof_rate": round(float(self.counts["proofs"][:, j].sum()) / n, 3) if n else None,
                    "timeout_rate": round(float(self.counts["timeouts"][:, j].sum()) / n, 3) if n else None,
                    "mean_seconds": round(float(self.counts["secs"][:, j].sum()) / n, 3) if n else None,
                }
            )
        return sorted(rows, key=lambda r: -r["tries"])

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.encoder.save(path / ENCODER)
        arrays: dict[str, Any] = {"vectors": self.vectors, **self.counts}
        np.savez_compressed(path / ARRAYS, **arrays)
        meta = {
            "kind": "portfolio_policy",
            "version": FORMAT_VERSION,
            "config": asdict(self.config),
            "tactics": self.tactics,
            "states": int(len(self.vectors)),
            "attempts": int(self.counts["tries"].sum()),
        }
        (path / POLICY_META).write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> PortfolioPolicy:
        path = Path(path)
        meta = json.loads((path / POLICY_META).read_text(encoding="utf-8"))
        if meta.get("kind") != "portfolio_policy":
            raise ValueError(f"{path / POLICY_META}: not a portfolio policy")
        with np.load(path / ARRAYS) as arrays:
            data = {k: arrays[k] for k in arrays.files}
        return cls(
            PolicyConfig.from_dict(meta.get("config", {})),
            meta["tactics"],
            TfidfEncoder.load(path / ENCODER),
            data.pop("vectors"),
            data,
        )


class RerankedGenerator:
    """An inner generator's candidates re-ranked (and pruned) by a `PortfolioPolicy`."""

    def __init__(self, inner: TacticGenerator, policy: PortfolioPolicy):
        self.inner = inner
        self.policy = policy
        self.required_imports = tuple(getattr(inner, "required_imports", ()))

    def for_theorem(self, theorem: object) -> None:
        for_theorem(self.inner, theorem)  # type: ignore[arg-type]

    def generate_batch(
        self, states: Sequence[str], premises: Sequence[Sequence[str]], num: int
    ) -> list[list[Candidate]]:
        cands = self.inner.generate_batch(states, premises, num)
        return self.policy.rerank_batch(states, cands, num)

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        return self.generate_batch([state_pp], [premises], num)[0]

    def generate_proofs(self, statement: str, num: int) -> list[Candidate]:
        gen = getattr(self.inner, "generate_proofs", None)
        if gen is None:
            raise TypeError(f"{type(self.inner).__name__} does not generate whole proofs")
        return gen(statement, num)


def split_rerank_arg(arg: str) -> tuple[str, str]:
    """`POLICY_DIR:INNER_SPEC` (the argument of `rerank:`) → (dir, inner spec); no inner spec → `auto`."""
    directory, _, inner = arg.partition(":")
    return directory, inner or "auto"


def from_spec(arg: str) -> RerankedGenerator:
    """`rerank:POLICY_DIR:INNER_SPEC` (INNER_SPEC defaults to `auto`)."""
    from proofsmith.prover.generators.factory import make_generator

    directory, inner = split_rerank_arg(arg)
    return RerankedGenerator(make_generator(inner), PortfolioPolicy.load(directory))
