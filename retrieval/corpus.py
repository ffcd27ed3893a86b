"""The premise corpus as retrievers see it: one flat, numbered list of premises and a fast
accessibility filter (ReProver's rule: everything transitively imported, plus the same file's
premises that end at or before the query position)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.schema import Pos, Premise, Provenance

log = logging.getLogger(__name__)


def _pos_key(p: Pos) -> int:
    return int(p[0]) * 1_000_000 + int(p[1])


def serialize_premise(p: Premise) -> str:
    """ReProver's `Premise.serialize`: the code with the (longest suffix of the) name that occurs in it
    replaced by `<a>full_name</a>`, so the encoder sees the fully qualified name."""
    marked = f"<a>{p.full_name}</a>"
    fields = p.full_name.split(".")
    for i in range(len(fields)):
        suffix = ".".join(fields[i:])
        new = re.sub(rf"(?<![\w.']){re.escape(suffix)}(?![\w'])", lambda _m: marked, p.code, count=1)
        if new != p.code:
            return new
    return f"{marked} {p.code}"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class PremiseCorpus:
    """Premises numbered 0..N-1, file by file (so each file's premises are a contiguous range)."""

    def __init__(self, corpus: Corpus, cache_size: int = 256):
        self.corpus = corpus
        self.premises: list[Premise] = []
        self.file_of: list[str] = []
        self.ranges: dict[str, tuple[int, int]] = {}
        for path in corpus.topological_order():
            lo = len(self.premises)
            for p in corpus.files[path].premises:
                # ReProver's File.from_data drops these as well
                if not p.full_name or not p.code.strip():
                    continue
                self.premises.append(p)
                self.file_of.append(path)
            self.ranges[path] = (lo, len(self.premises))
        self._end_keys = np.array([_pos_key(p.end) for p in self.premises], dtype=np.int64)
        self._by_name: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(self.premises):
            self._by_name[p.full_name].append(i)
        self._cache_size = cache_size
        self._imported_ids: OrderedDict[str, np.ndarray] = OrderedDict()
        self._serialized: list[str] | None = None
        self._warned: set[str] = set()
        self.source_sha256: str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_jsonl(cls, path: Path | str) -> PremiseCorpus:
        pc = cls(Corpus.read_jsonl(Path(path)))
        pc.source_sha256 = file_sha256(Path(path))
        return pc

    @classmethod
    def from_data_dir(cls, data_dir: Path | str) -> PremiseCorpus:
        return cls.from_jsonl(Path(data_dir) / "corpus.jsonl")

    def __len__(self) -> int:
        return len(self.premises)

    @property
    def texts(self) -> list[str]:
        """Serialized premises, in id order (what the encoders and BM25 index)."""
        if self._serialized is None:
            self._serialized = [serialize_premise(p) for p in self.premises]
        return self._serialized

    # ------------------------------------------------------------------ accessibility
    def has_file(self, path: str) -> bool:
        return path in self.ranges

    def imported_ids(self, path: str) -> np.ndarray:
        """Sorted ids of every premise in the files `path` imports, directly or transitively (cached)."""
        ids = self._imported_ids.get(path)
        if ids is not None:
            self._imported_ids.move_to_end(path)
            return ids
        if path not in self.ranges:
            raise KeyError(f"{path!r} is not a file of the premise corpus")
        parts = [np.arange(*self.ranges[f]) for f in self.corpus.imported(path) if f in self.ranges]
        ids = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        self._imported_ids[path] = ids
        if len(self._imported_ids) > self._cache_size:
            self._imported_ids.popitem(last=False)
        return ids

    def same_file_ids(self, path: str, pos: Pos | None) -> np.ndarray:
        """Ids of `path`'s own premises that end at or before `pos` (all of them when `pos` is None)."""
        lo, hi = self.ranges[path]
        ids = np.arange(lo, hi)
        if pos is None:
            return ids
        return ids[self._end_keys[lo:hi] <= _pos_key(pos)]

    def accessible_ids(self, path: str | None, pos: Pos | None) -> np.ndarray:
        """`path=None`, or a file the corpus does not know (so none of its premises can leak), means no
        restriction: every premise."""
        if path is None or not self._known(path):
            return np.arange(len(self.premises))
        return np.concatenate([self.imported_ids(path), self.same_file_ids(path, pos)])

    def accessible_mask(self, path: str | None, pos: Pos | None) -> np.ndarray:
        if path is None or not self._known(path):
            return np.ones(len(self.premises), dtype=bool)
        mask = np.zeros(len(self.premises), dtype=bool)
        mask[self.imported_ids(path)] = True
        mask[self.same_file_ids(path, pos)] = True
        return mask

    def _known(self, path: str | None) -> bool:
        if path is None:
            return False
        if path not in self.ranges:
            if path not in self._warned:
                self._warned.add(path)
                log.warning("%s is not in the premise corpus: retrieving among all premises", path)
            return False
        return True

    def is_accessible(self, pid: int, path: str, pos: Pos | None) -> bool:
        f = self.file_of[pid]
        if f == path:
            return pos is None or self._end_keys[pid] <= _pos_key(pos)
        return f in self.corpus.imported(path)

    # ------------------------------------------------------------------ positives
    def ids_named(self, full_name: str) -> list[int]:
        return self._by_name.get(full_name, [])

    def locate(self, prov: Provenance) -> int | None:
        """The corpus premise a tactic's provenance points to: the one in `def_path` whose span holds
        `def_pos` (ReProver's rule), else the one of that name in `def_path`, else the only one of that name."""
        if prov.def_path in self.ranges and prov.def_pos is not None:
            lo, hi = self.ranges[prov.def_path]
            key = _pos_key(prov.def_pos)
            for i in range(lo, hi):
                p = self.premises[i]
                if _pos_key(p.start) <= key <= _pos_key(p.end) and p.full_name == prov.full_name:
                    return i
            for i in range(lo, hi):
                p = self.premises[i]
                if _pos_key(p.start) <= key <= _pos_key(p.end):
                    return i
        named = self.ids_named(prov.full_name)
        in_file = [i for i in named if self.file_of[i] == prov.def_path]
        if in_file:
            return in_file[0]
        return named[0] if len(named) == 1 else None

    def positives(self, provs: Iterable[Provenance]) -> list[int]:
        out: list[int] = []
        for prov in provs:
            i = self.locate(prov)
            if i is not None and i not in out:
                out.append(i)
        return out
