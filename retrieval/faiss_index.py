"""A FAISS inner-product index over L2-normalised premise embeddings: exact (`IndexFlatIP`) up to
`flat_threshold` vectors, HNSW or IVF above; saved with the id of the model that made the embeddings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

INDEX_KINDS = ("auto", "flat", "hnsw", "ivf")
DEFAULT_FLAT_THRESHOLD = 100_000


@dataclass
class IndexMeta:
    model_id: str
    dim: int
    num: int
    kind: str
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # corpus path/hash etc., written by the caller


class PremiseIndex:
    def __init__(self, index: faiss.Index, meta: IndexMeta, embeddings: np.ndarray):
        self.index = index
        self.meta = meta
        self.embeddings = embeddings  # kept: exact re-scoring and per-file sub-indexes need them

    @classmethod
    def build(
        cls,
        embeddings: np.ndarray,
        model_id: str,
        kind: str = "auto",
        flat_threshold: int = DEFAULT_FLAT_THRESHOLD,
        hnsw_m: int = 32,
        ef_search: int = 128,
        nlist: int | None = None,
        nprobe: int = 16,
        seed: int = 0,
    ) -> PremiseIndex:
        if kind not in INDEX_KINDS:
            raise ValueError(f"index kind must be one of {INDEX_KINDS}, not {kind!r}")
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        n, d = emb.shape
        if kind == "auto":
            kind = "flat" if n <= flat_threshold else "hnsw"
        params: dict = {}
        index: Any  # faiss' index classes share no typed base that has hnsw/nprobe
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = max(40, 2 * hnsw_m)
            index.hnsw.efSearch = ef_search
            params = {"M": hnsw_m, "efSearch": ef_search}
        else:
            nlist = nlist or max(1, min(int(4 * np.sqrt(n)), n // 39 or 1))
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = seed
            index.train(emb)
            index.nprobe = min(nprobe, nlist)
            params = {"nlist": nlist, "nprobe": index.nprobe}
        index.add(emb)
        return cls(index, IndexMeta(model_id=model_id, dim=d, num=n, kind=kind, params=params), emb)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each [len(queries), k]; ids are -1 where fewer than k were found."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.meta.dim)
        return self.index.search(q, min(k, self.meta.num))

    def save(self, out_dir: Path | str) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(out / "premises.faiss"))
        np.save(out / "embeddings.npy", self.embeddings)
        (out / "index_meta.json").write_text(json.dumps(asdict(self.meta), indent=1))
        return out

    @classmethod
    def load(cls, in_dir: Path | str, expect_model_id: str | None = None) -> PremiseIndex:
        src = Path(in_dir)
        meta = IndexMeta(**json.loads((src / "index_meta.json").read_text()))
        if expect_model_id is not None and expect_model_id != meta.model_id:
            raise ValueError(f"index {src} was built with {meta.model_id!r}, not {expect_model_id!r}")
        index: Any = faiss.read_index(str(src / "premises.faiss"))
        if meta.kind == "hnsw":
            index.hnsw.efSearch = meta.params.get("efSearch", index.hnsw.efSearch)
        elif meta.kind == "ivf":
            index.nprobe = meta.params.get("nprobe", index.nprobe)
        emb = np.load(src / "embeddings.npy")
        if index.ntotal != meta.num or emb.shape != (meta.num, meta.dim):
            raise ValueError(
                f"index {src} is inconsistent: {index.ntotal} vectors, embeddings {emb.shape}, meta {meta.num}"
            )
        return cls(index, meta, emb)
