"""Dense retrieval: encode the state, search the premise index, keep only accessible premises.

Two ways to restrict the search to accessible premises (`scripts/bench_retrieval.py` times both):
- `overfetch`: search the whole index for more than `k`, drop inaccessible hits, fetch more if short
  (ReProver's way; cheap when most of the corpus is accessible, as it usually is);
- `subindex`: per query file, an exact index over the premises it imports (built once, cached), plus
  the same file's earlier premises scored directly; exact whatever the main index kind."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from proofsmith.dataset.schema import Pos, Premise
from proofsmith.retrieval.corpus import PremiseCorpus
from proofsmith.retrieval.encoder import Encoder
from proofsmith.retrieval.faiss_index import DEFAULT_FLAT_THRESHOLD, PremiseIndex

STRATEGIES = ("overfetch", "subindex")


def _top(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if len(ids) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    kk = min(k, len(ids))
    top = np.argpartition(-scores, kk - 1)[:kk]
    top = top[np.lexsort((ids[top], -scores[top]))]
    return ids[top], scores[top]


class DenseRetriever:
    def __init__(
        self,
        encoder: Encoder,
        corpus: PremiseCorpus,
        index: PremiseIndex,
        strategy: str = "overfetch",
        subindex_cache: int = 64,
    ):
        if index.meta.num != len(corpus):
            raise ValueError(f"index has {index.meta.num} premises, corpus {len(corpus)}: rebuild the index")
        if index.meta.model_id != encoder.model_id:
            raise ValueError(f"index was built with {index.meta.model_id!r}, encoder is {encoder.model_id!r}")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        self.encoder, self.corpus, self.index, self.strategy = encoder, corpus, index, strategy
        self._sub: OrderedDict[str, tuple[faiss.Index, np.ndarray]] = OrderedDict()
        self._sub_cache = subindex_cache

    # ------------------------------------------------------------------ build / save / load
    @classmethod
    def build(
        cls,
        encoder: Encoder,
        corpus: PremiseCorpus,
        kind: str = "auto",
        flat_threshold: int = DEFAULT_FLAT_THRESHOLD,
        batch_size: int = 64,
        progress: bool = False,
        **kw,
    ) -> DenseRetriever:
        emb = encoder.embed(corpus.texts, batch_size=batch_size, progress=progress)
        index = PremiseIndex.build(emb, encoder.model_id, kind=kind, flat_threshold=flat_threshold)
        index.meta.extra = {"corpus_sha256": corpus.source_sha256, "max_len": encoder.max_len}
        return cls(encoder, corpus, index, **kw)

    def save(self, out_dir: Path | str, corpus_path: Path | str | None = None) -> Path:
        if corpus_path is not None:
            self.index.meta.extra["corpus_path"] = str(Path(corpus_path).resolve())
        return self.index.save(out_dir)

    @classmethod
    def load(
        cls,
        index_dir: Path | str,
        corpus: PremiseCorpus | None = None,
        device: str | None = None,
        model: str | None = None,
        **kw,
    ) -> DenseRetriever:
        """The encoder is the one recorded in the index (or `model`, which must be the same id)."""
        meta = json.loads((Path(index_dir) / "index_meta.json").read_text())
        index = PremiseIndex.load(index_dir, expect_model_id=model)
        if corpus is None:
            path = meta.get("extra", {}).get("corpus_path")
            if not path:
                raise ValueError(f"{index_dir} records no corpus path: pass the corpus")
            corpus = PremiseCorpus.from_jsonl(path)
        want = index.meta.extra.get("corpus_sha256")
        if want and corpus.source_sha256 and want != corpus.source_sha256:
            raise ValueError(f"{index_dir} was built from another corpus.jsonl (sha256 differs): rebuild the index")
        encoder = Encoder(index.meta.model_id, device=device, max_len=index.meta.extra.get("max_len"))
        return cls(encoder, corpus, index, **kw)

    # ------------------------------------------------------------------ search
    def _overfetch(self, q: np.ndarray, path: str | None, pos: Pos | None, k: int):
        n = self.index.meta.num
        if path is None or not self.corpus.has_file(path):
            s, i = self.index.search(q, k)
            keep = i[0] >= 0
            return i[0][keep].astype(np.int64), s[0][keep]
        mask = self.corpus.accessible_mask(path, pos)
        fetch = min(n, max(4 * k, 64))
        while True:
            s, i = self.index.search(q, fetch)
            s, i = s[0], i[0]
            ok = i >= 0
            ok[ok] = mask[i[ok]]
            if ok.sum() >= k or fetch >= n:
                return i[ok][:k].astype(np.int64), s[ok][:k]
            fetch = min(n, fetch * 4)

    def _subindex_for(self, path: str) -> tuple[faiss.Index, np.ndarray]:
        hit = self._sub.get(path)
        if hit is not None:
            self._sub.move_to_end(path)
            return hit
        ids = self.corpus.imported_ids(path)
        sub = faiss.IndexFlatIP(self.index.meta.dim)
        if len(ids):
            sub.add(np.ascontiguousarray(self.index.embeddings[ids]))
        self._sub[path] = (sub, ids)
        if len(self._sub) > self._sub_cache:
            self._sub.popitem(last=False)
        return sub, ids

    def _subindex(self, q: np.ndarray, path: str | None, pos: Pos | None, k: int):
        if path is None or not self.corpus.has_file(path):
            return _top(self.index.embeddings @ q[0], np.arange(self.index.meta.num), k)
        sub, ids = self._subindex_for(path)
        parts_s, parts_i = [], []
        if sub.ntotal:
            s, j = sub.search(q, min(k, sub.ntotal))
            parts_s.append(s[0])
            parts_i.append(ids[j[0]])
        own = self.corpus.same_file_ids(path, pos)
        if len(own):
            parts_s.append(self.index.embeddings[own] @ q[0])
            parts_i.append(own)
        if not parts_i:
            return _top(np.zeros(0), np.zeros(0, dtype=np.int64), k)
        return _top(np.concatenate(parts_s), np.concatenate(parts_i), k)

    def retrieve_ids_from_embedding(
        self, q: np.ndarray, file_path: str | None, pos: Pos | None, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(q, dtype=np.float32).reshape(1, -1)
        if self.strategy == "overfetch":
            return self._overfetch(q, file_path, pos, k)
        return self._subindex(q, file_path, pos, k)

    def retrieve_ids(self, state: str, file_path: str | None, pos: Pos | None, k: int):
        """Premise ids and scores of the top `k` accessible premises (`file_path=None`: no filter)."""
        q = self.encoder.embed([state], queries=True)
        return self.retrieve_ids_from_embedding(q, file_path, pos, k)

    def retrieve(self, state: str, file_path: str, pos: Pos | None, k: int) -> list[tuple[Premise, float]]:
        ids, scores = self.retrieve_ids(state, file_path, pos, k)
        return [(self.corpus.premises[int(i)], float(s)) for i, s in zip(ids, scores)]

    def retrieve_batch(
        self,
        states: Sequence[str],
        file_paths: Sequence[str],
        positions: Sequence[Pos | None],
        k: int,
        batch_size: int = 64,
    ) -> list[list[tuple[Premise, float]]]:
        qs = self.encoder.embed(list(states), batch_size=batch_size, queries=True)
        out = []
        for q, f, p in zip(qs, file_paths, positions):
            ids, scores = self.retrieve_ids_from_embedding(q, f, p, k)
            out.append([(self.corpus.premises[int(i)], float(s)) for i, s in zip(ids, scores)])
        return out
