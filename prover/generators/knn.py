"""Tactician-style k-nearest-neighbour tactic prediction: find the traced states most similar to the
current one (cosine of L2-normalised vectors) and propose the tactics used there, with the
neighbour's hypothesis names mapped to the current state's by position.

The default TF-IDF vectors are kept sparse and searched through their inverted index (the term-major
matrix: a query touches only the states sharing one of its terms), so the index grows with the tokens
traced, not with states x vocabulary: the 364k states of the Debian corpus's novel_packages/train are
17M non-zeros (84 MB saved), where dense FAISS rows would take 6 GB in every search worker. A dense
encoder (a trained retriever's) is searched with an exact FAISS inner-product index.

Scores are log-probabilities of a similarity-weighted vote, w = exp((cos - 1) / temperature): with the
default temperature an identical state outweighs ~150 neighbours at cosine 0.9, so the nearest
neighbours decide and close ties are settled by votes.

Library proofs are often one compound sentence (`apply injective_projections; simpl; ring`) that
fails on a new goal as a whole while its first steps still apply. Like Tactician's decomposition of
tactic sequences, each neighbour's `t1; t2; ...; tn` also votes, with `KNNConfig.prefix_weight` of
its weight, for its prefixes `t1`, `t1; t2`, ... (split at top-level `;` only), so the search can
take the first steps and close the rest with other candidates.

Online learning (`knn:INDEX#online=SPLIT.json`, see `generators.online`): the traced proofs of the
split's theorems join the index, each visible only to the theorems that could see it in Coq (those of
files importing its file, and the later theorems of its own file), as Tactician and Graph2Tac are
evaluated on unseen packages. `for_theorem` (called by the search before each theorem) picks them.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np
from scipy import sparse

from proofsmith.envs.base import TheoremRef
from proofsmith.prover.generators.base import Candidate
from proofsmith.prover.generators.online import ONLINE_OPTION, OnlineExamples
from proofsmith.prover.generators.prompt import normalize_tactic
from proofsmith.prover.generators.state_text import context_names, rename_identifiers
from proofsmith.prover.generators.tfidf import StateEncoder, TfidfEncoder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KNNConfig:
    neighbours: int = 64  # searched per state (at least `num`)
    temperature: float = 0.02
    adapt_names: bool = True
    max_features: int = 4096
    oov_buckets: int = 1 << 18  # hashed columns for tokens outside the vocabulary (a new package's names)
    prefix_weight: float = 0.25  # share of a compound tactic's vote given to each of its prefixes (0: off)


def encoder_of(retriever: object) -> StateEncoder | None:
    """A retriever's state encoder, when it exposes one (dense retrievers do; BM25 does not)."""
    for attr in ("state_encoder", "encoder"):
        enc: Any = getattr(retriever, attr, None)
        if enc is not None and callable(getattr(enc, "encode", None)):
            return enc
    return cast(StateEncoder, retriever) if callable(getattr(retriever, "encode", None)) else None


class KNNTacticGenerator:
    def __init__(
        self,
        states: Sequence[str],
        tactics: Sequence[str],
        encoder: StateEncoder | None = None,
        config: KNNConfig = KNNConfig(),
    ):
        if len(states) != len(tactics):
            raise ValueError("states and tactics differ in length")
        self.config = config
        self.states = list(states)
        self.tactics = list(tactics)
        if encoder is None:
            encoder = TfidfEncoder.fit(self.states, config.max_features, oov_buckets=config.oov_buckets)
        self.encoder = encoder
        self._names: dict[int, list[str]] = {}
        self._no_online()
        self.index: Any = None
        self._by_term: sparse.csr_matrix | None = None
        if isinstance(self.encoder, TfidfEncoder):
            self._by_term = self.encoder.encode_sparse(self.states).T.tocsr()
        else:
            vectors = self.encoder.encode(self.states) if self.states else np.zeros((0, 1), np.float32)
            self.index = faiss.IndexFlatIP(vectors.shape[1])
            if len(vectors):
                self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.states)

    # ------------------------------------------------------------------ online examples
    def _no_online(self) -> None:
        self.online: OnlineExamples | None = None
        self._online_rows: Any = None
        self._visible = np.zeros(0, dtype=np.int64)
        self._visible_rows: Any = None

    def set_online(self, online: OnlineExamples) -> None:
        """Add examples visible per theorem (`for_theorem`); none is visible until a theorem is set."""
        self.online = online
        states = [e.state for e in online.examples]
        if isinstance(self.encoder, TfidfEncoder):
            self._online_rows = self.encoder.encode_sparse(states)
        else:
            self._online_rows = np.ascontiguousarray(self.encoder.encode(states), dtype=np.float32)
        self.for_theorem(None)

    def for_theorem(self, theorem: TheoremRef | None) -> None:
        """The theorem about to be proved: which online examples it sees (none for None)."""
        if self.online is None or theorem is None:
            self._visible = np.zeros(0, dtype=np.int64)
        else:
            self._visible = self.online.visible(theorem)
            log.debug("%s sees %d online examples", theorem.name, len(self._visible))
        self._visible_rows = self._online_rows[self._visible] if len(self._visible) else None

    def _tactic(self, j: int) -> str:
        n = len(self.states)
        return self.tactics[j] if j < n else self.online.examples[j - n].tactic  # type: ignore[union-attr]

    def _state(self, j: int) -> str:
        n = len(self.states)
        return self.states[j] if j < n else self.online.examples[j - n].state  # type: ignore[union-attr]

    # ------------------------------------------------------------------ search
    def _search(self, states: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The `k` most similar traced states of each query: (cosines, ids), best first; ids from
        len(self) on are online examples (`len(self) + example id`)."""
        if self._by_term is None:
            q = np.ascontiguousarray(self.encoder.encode(list(states)), dtype=np.float32)
            sims, ids = self.index.search(q, min(k, len(self.states))) if len(self.states) else _no_hits(len(states), k)
            if self._visible_rows is not None:
                sims, ids = _merge(sims, ids, *_top_k(q @ self._visible_rows.T, k), self._visible, len(self.states))
            return sims, ids
        assert isinstance(self.encoder, TfidfEncoder)
        q = self.encoder.encode_sparse(states)
        sims, ids = _top_k((q @ self._by_term).toarray(), k) if len(self.states) else _no_hits(len(states), k)
        if self._visible_rows is not None:
            online = _top_k((q @ self._visible_rows.T).toarray(), k)
            sims, ids = _merge(sims, ids, *online, self._visible, len(self.states))
        return sims, ids

    def _context_names(self, j: int) -> list[str]:
        names = self._names.get(j)
        if names is None:
            if len(self._names) >= 200_000:  # bounded: a long search meets most of a corpus-size index
                self._names.clear()
            names = self._names[j] = context_names(self._state(j))
        return names

    # ------------------------------------------------------------------ building
    @classmethod
    def from_pairs(
        cls, pairs: Iterable[dict], encoder: StateEncoder | None = None, config: KNNConfig = KNNConfig()
    ) -> KNNTacticGenerator:
        """From `{state, tactic}` dicts (what `envs.dataset.tactic_pairs` yields)."""
        states, tactics = [], []
        for p in pairs:
            if p["state"].strip() and p["tactic"].strip():
                states.append(p["state"])
                tactics.append(p["tactic"])
        return cls(states, tactics, encoder, config)

    # ------------------------------------------------------------------ generation
    def _adapt(self, tactic: str, neighbour: int, names: list[str]) -> str:
        if not self.config.adapt_names:
            return tactic
        theirs = self._context_names(neighbour)
        mapping = {a: b for a, b in zip(theirs, names) if a != b}
        # Never rename onto a name that the tactic already uses for something else.
        used = set(theirs) - set(mapping)
        mapping = {a: b for a, b in mapping.items() if b not in used}
        return rename_identifiers(tactic, mapping)

    def _vote(self, state: str, sims: np.ndarray, ids: np.ndarray, num: int) -> list[Candidate]:
        names = context_names(state)
        weights: dict[str, float] = {}
        text: dict[str, str] = {}
        for sim, j in zip(sims, ids):
            if j < 0:
                continue
            tac = self._adapt(self._tactic(int(j)), int(j), names)
            key = normalize_tactic(tac)
            w = math.exp((min(float(sim), 1.0) - 1.0) / self.config.temperature)
            weights[key] = weights.get(key, 0.0) + w
            text.setdefault(key, tac.strip())
            if self.config.prefix_weight > 0:
                for prefix in tactic_prefixes(tac):
                    pkey = normalize_tactic(prefix)
                    weights[pkey] = weights.get(pkey, 0.0) + w * self.config.prefix_weight
                    text.setdefault(pkey, prefix)
        total = sum(weights.values())
        if total <= 0:
            return []
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])[:num]
        return [(text[k], math.log(w / total)) for k, w in ranked]

    def generate_batch(
        self, states: Sequence[str], premises: Sequence[Sequence[str]], num: int
    ) -> list[list[Candidate]]:
        if not states:
            return []
        if not self.states and not len(self._visible):
            return [[] for _ in states]
        sims, ids = self._search(states, max(self.config.neighbours, num))
        return [self._vote(s, sims[i], ids[i], num) for i, s in enumerate(states)]

    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        return self.generate_batch([state_pp], [premises], num)[0]

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if not isinstance(self.encoder, TfidfEncoder):
            raise ValueError("only the TF-IDF encoder is saved with the index; pass the encoder again to build")
        self.encoder.save(path / "tfidf.json")
        with open(path / "examples.jsonl", "w", encoding="utf-8") as f:
            for s, t in zip(self.states, self.tactics):
                f.write(json.dumps({"state": s, "tactic": t}, ensure_ascii=False) + "\n")
        assert self._by_term is not None
        sparse.save_npz(path / "vectors.npz", self._by_term)
        (path / "knn.json").write_text(
            json.dumps({"kind": "knn", "encoder": "tfidf", **self.config.__dict__}, indent=1)
        )
        return path

    @classmethod
    def load(cls, path: Path) -> KNNTacticGenerator:
        path = Path(path)
        meta = json.loads((path / "knn.json").read_text())
        config = KNNConfig(**{k: meta[k] for k in KNNConfig.__dataclass_fields__ if k in meta})
        with open(path / "examples.jsonl", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        self = cls.__new__(cls)
        self.config = config
        self.states = [r["state"] for r in rows]
        self.tactics = [r["tactic"] for r in rows]
        self.encoder = TfidfEncoder.load(path / "tfidf.json")
        self._names = {}
        self.index = None
        self._no_online()
        if (path / "vectors.npz").is_file():
            self._by_term = sparse.load_npz(path / "vectors.npz").tocsr()
        else:  # an index saved before the sparse one (dense index.faiss): the same vectors, encoded again
            log.info("%s: no vectors.npz (an older index); encoding its %d states again", path, len(self.states))
            self._by_term = self.encoder.encode_sparse(self.states).T.tocsr()
        return self


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of `scores`, the k best (scores, columns), best first; fewer when there are fewer columns."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return _no_hits(scores.shape[0], 0)
    ids = (
        np.argpartition(-scores, k - 1, axis=1)[:, :k]
        if k < scores.shape[1]
        else np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    )
    top = np.take_along_axis(scores, ids, axis=1)
    order = np.argsort(-top, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(ids, order, axis=1)


def _no_hits(rows: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((rows, 0), np.float32), np.zeros((rows, 0), np.int64)


def _merge(
    sims: np.ndarray, ids: np.ndarray, o_sims: np.ndarray, o_cols: np.ndarray, visible: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """The index's and the online examples' neighbours together, best first (online ids offset)."""
    k = max(sims.shape[1], o_sims.shape[1])
    all_sims = np.concatenate([sims, o_sims], axis=1)
    all_ids = np.concatenate([ids.astype(np.int64), visible[o_cols] + offset], axis=1)
    order = np.argsort(-all_sims, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(all_sims, order, axis=1), np.take_along_axis(all_ids, order, axis=1)


_MATCH_OPEN = re.compile(r"\b(?:lazymatch|multimatch|match)\b")
_MATCH_CLOSE = re.compile(r"\bend\b")


def split_sequence(tactic: str) -> list[str]:
    """`t1; t2; t3` → [t1, t2, t3]: split at `;` outside brackets, strings and `match ... end`."""
    t = normalize_tactic(tactic)
    parts: list[str] = []
    depth = 0  # brackets and match...end blocks
    start = 0
    i = 0
    in_string = False
    while i < len(t):
        ch = t[i]
        if ch == '"':
            in_string = not in_string
        elif in_string:
            pass
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch.isalpha() and (i == 0 or not (t[i - 1].isalnum() or t[i - 1] in "_'.")):
            if m := _MATCH_OPEN.match(t, i):
                depth += 1
                i = m.end()
                continue
            if m := _MATCH_CLOSE.match(t, i):
                depth = max(0, depth - 1)
                i = m.end()
                continue
        elif ch == ";" and depth == 0:
            parts.append(t[start:i].strip())
            start = i + 1
        i += 1
    parts.append(t[start:].strip())
    return parts if all(parts) else [t]


def tactic_prefixes(tactic: str) -> list[str]:
    """The proper prefixes of a tactic sequence: `a; b; c` → [`a`, `a; b`]; none for one tactic."""
    parts = split_sequence(tactic)
    return ["; ".join(parts[:i]) for i in range(1, len(parts))]


def split_online(arg: str) -> tuple[str, str | None]:
    """`PATH#online=SPLIT.json` → (PATH, SPLIT.json); `PATH` → (PATH, None)."""
    path, sep, online = arg.partition(ONLINE_OPTION)
    return path, (online if sep else None)


def from_spec(arg: str) -> KNNTacticGenerator:
    """`knn:PATH[#online=SPLIT.json]`: a saved index, a traced dataset directory (indexed from its
    random/train split), or one traced split file (`DIR/novel_packages/train.json`, for a model judged
    on novel_packages); with `#online=`, the split's proofs visible to each theorem join it."""
    arg, online = split_online(arg)
    knn = _base_from_spec(arg)
    if online:
        knn.set_online(OnlineExamples.from_split(online))
    return knn


def _base_from_spec(arg: str) -> KNNTacticGenerator:
    path = Path(arg)
    if (path / "knn.json").is_file():
        return KNNTacticGenerator.load(path)
    if path.is_file() and path.suffix == ".json":
        from proofsmith.dataset.loading import read_split, tactic_pairs

        return KNNTacticGenerator.from_pairs(tactic_pairs(read_split(path)))
    if (path / "random" / "train.json").is_file():
        from proofsmith.dataset.loading import read_split, tactic_pairs

        return KNNTacticGenerator.from_pairs(tactic_pairs(read_split(path / "random" / "train.json")))
    raise FileNotFoundError(f"knn:{arg}: neither a k-NN index (knn.json), a traced dataset nor a split file")
