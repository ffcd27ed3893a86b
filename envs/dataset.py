"""Backend-neutral traced-proof dataset in the LeanDojo Benchmark 4 shape.

Records (theorems with traced tactics), the premise corpus, the `random` / `novel_premises` splits,
premise accessibility, and the `datasets.DatasetDict` view that training code reads. Positions
are `(line, column)`, both 1-based, as in LeanDojo.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Pos = tuple[int, int]
SPLIT_STRATEGIES = ("random", "novel_premises")
SPLIT_NAMES = ("train", "val", "test")
DEFAULT_SEED = 3407  # LeanDojo's
MAX_EVAL = 2000  # LeanDojo's val/test size; small datasets use a fraction instead


def _pos(v: Any) -> Pos | None:
    return (int(v[0]), int(v[1])) if v is not None else None


def _list(p: Pos | None) -> list[int] | None:
    return [p[0], p[1]] if p is not None else None


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Provenance:
    """Where a premise named by a tactic is defined (`def_pos` is the position of its name)."""

    full_name: str
    def_path: str
    def_pos: Pos | None = None
    def_end_pos: Pos | None = None

    def to_json(self) -> dict:
        return {
            "full_name": self.full_name,
            "def_path": self.def_path,
            "def_pos": _list(self.def_pos),
            "def_end_pos": _list(self.def_end_pos),
        }

    @classmethod
    def from_json(cls, d: dict) -> Provenance:
        return cls(d["full_name"], d.get("def_path", ""), _pos(d.get("def_pos")), _pos(d.get("def_end_pos")))


@dataclass(frozen=True)
class TracedTactic:
    tactic: str
    annotated_tactic: tuple[str, tuple[Provenance, ...]]  # text with <a>…</a> marks, one provenance per mark
    state_before: str
    state_after: str

    @property
    def premises(self) -> tuple[Provenance, ...]:
        return self.annotated_tactic[1]

    def to_json(self) -> dict:
        text, provs = self.annotated_tactic
        return {
            "tactic": self.tactic,
            "annotated_tactic": [text, [p.to_json() for p in provs]],
            "state_before": self.state_before,
            "state_after": self.state_after,
        }

    @classmethod
    def from_json(cls, d: dict) -> TracedTactic:
        ann = d.get("annotated_tactic")
        if ann is None:  # partial records (e.g. LeanDojo's demo output) carry no annotation
            ann = [d["tactic"], []]
        return cls(
            d["tactic"],
            (ann[0], tuple(Provenance.from_json(p) for p in ann[1])),
            d.get("state_before", ""),
            d.get("state_after", ""),
        )


@dataclass(frozen=True)
class TheoremRecord:
    url: str
    commit: str
    file_path: str
    full_name: str
    start: Pos | None
    end: Pos | None
    traced_tactics: tuple[TracedTactic, ...]
    theorem_statement: str | None = None
    backend: str = "coq"

    @property
    def key(self) -> tuple[str, str]:
        return (self.file_path, self.full_name)

    def premise_names(self) -> set[str]:
        return {p.full_name for t in self.traced_tactics for p in t.premises}

    def to_json(self) -> dict:
        return {
            "url": self.url,
            "commit": self.commit,
            "file_path": self.file_path,
            "full_name": self.full_name,
            "start": _list(self.start),
            "end": _list(self.end),
            "traced_tactics": [t.to_json() for t in self.traced_tactics],
            "theorem_statement": self.theorem_statement,
            "backend": self.backend,
        }

    @classmethod
    def from_json(cls, d: dict, backend: str | None = None) -> TheoremRecord:
        return cls(
            d.get("url", ""),
            d.get("commit", ""),
            d["file_path"],
            d["full_name"],
            _pos(d.get("start")),
            _pos(d.get("end")),
            tuple(TracedTactic.from_json(t) for t in d.get("traced_tactics") or ()),
            d.get("theorem_statement"),
            backend or d.get("backend", "lean"),
        )


@dataclass(frozen=True)
class Premise:
    full_name: str
    code: str
    start: Pos
    end: Pos
    kind: str

    def to_json(self) -> dict:
        return {
            "full_name": self.full_name,
            "code": self.code,
            "start": _list(self.start),
            "end": _list(self.end),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, d: dict) -> Premise:
        return cls(d["full_name"], d.get("code", ""), _pos(d["start"]), _pos(d["end"]), d.get("kind", ""))


@dataclass(frozen=True)
class CorpusFile:
    """One `corpus.jsonl` line: a file, its direct imports (paths), the premises it defines."""

    path: str
    imports: tuple[str, ...]
    premises: tuple[Premise, ...]

    def to_json(self) -> dict:
        return {"path": self.path, "imports": list(self.imports), "premises": [p.to_json() for p in self.premises]}

    @classmethod
    def from_json(cls, d: dict) -> CorpusFile:
        return cls(
            d["path"], tuple(d.get("imports") or ()), tuple(Premise.from_json(p) for p in d.get("premises") or ())
        )


# --------------------------------------------------------------------------- corpus
class Corpus:
    """Files, their import DAG and premises; what is accessible at a position (ReProver's rule:
    same-file premises ending at or before the position, plus everything transitively imported)."""

    def __init__(self, files: Iterable[CorpusFile]):
        self.files: dict[str, CorpusFile] = {f.path: f for f in files}
        self._closure: dict[str, frozenset[str]] = {}

    def imported(self, path: str) -> frozenset[str]:
        """All files `path` imports, directly or transitively (imports outside the corpus included)."""
        if path in self._closure:
            return self._closure[path]
        seen: set[str] = set()
        stack = list(self.files[path].imports) if path in self.files else []
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            if p in self._closure:
                seen |= self._closure[p]
            elif p in self.files:
                stack.extend(self.files[p].imports)
        self._closure[path] = frozenset(seen)
        return self._closure[path]

    def accessible_premises(self, path: str, pos: Pos) -> list[Premise]:
        out = [p for p in self.files[path].premises if p.end <= tuple(pos)] if path in self.files else []
        for imp in sorted(self.imported(path)):
            if imp in self.files:
                out.extend(self.files[imp].premises)
        return out

    def topological_order(self) -> list[str]:
        """Every file after the files it imports (what ReProver's `Corpus` asserts of corpus.jsonl)."""
        order: list[str] = []
        state: dict[str, int] = {}
        for root in sorted(self.files):
            stack = [(root, iter(sorted(self.files[root].imports)))]
            if state.get(root):
                continue
            state[root] = 1
            while stack:
                node, it = stack[-1]
                nxt = next((i for i in it if i in self.files and not state.get(i)), None)
                if nxt is None:
                    stack.pop()
                    state[node] = 2
                    order.append(node)
                else:
                    state[nxt] = 1
                    stack.append((nxt, iter(sorted(self.files[nxt].imports))))
        return order

    def write_jsonl(self, path: Path) -> None:
        with _atomic(path) as f:
            for p in self.topological_order():
                f.write(json.dumps(self.files[p].to_json(), ensure_ascii=False) + "\n")

    @classmethod
    def read_jsonl(cls, path: Path) -> Corpus:
        with open(path, encoding="utf-8") as f:
            return cls(CorpusFile.from_json(json.loads(line)) for line in f if line.strip())


# --------------------------------------------------------------------------- splits
def eval_size(n: int, num_eval: int | None = None) -> int:
    """Theorems in each of val and test: LeanDojo's 2,000, or 10% of a smaller dataset."""
    return num_eval if num_eval is not None else min(MAX_EVAL, n // 10)


def _by_key(theorems: Sequence[TheoremRecord]) -> dict[tuple[str, str], list[TheoremRecord]]:
    """Records grouped by (file, name): a name that occurs twice never straddles two splits."""
    groups: dict[tuple[str, str], list[TheoremRecord]] = defaultdict(list)
    for t in sorted(theorems, key=lambda t: (t.key, t.start or (0, 0))):
        groups[t.key].append(t)
    return groups


def split_random(
    theorems: Sequence[TheoremRecord], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, list[TheoremRecord]]:
    groups = _by_key(theorems)
    keys = sorted(groups)
    k = eval_size(len(keys), num_eval)
    random.Random(seed).shuffle(keys)
    n = len(keys)
    parts = {"train": keys[: n - 2 * k], "val": keys[n - 2 * k : n - k], "test": keys[n - k :]}
    return {name: [t for key in ks for t in groups[key]] for name, ks in parts.items()}


def split_novel_premises(
    theorems: Sequence[TheoremRecord], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, list[TheoremRecord]]:
    """LeanDojo's rule: take the least-used premises first, moving every theorem that uses them to
    the val/test pool until it is big enough; so each val/test theorem uses a premise train never does."""
    groups = _by_key(theorems)
    ordered = sorted(groups)
    k = eval_size(len(ordered), num_eval)
    users: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(ordered):
        for name in set().union(*(t.premise_names() for t in groups[key])):
            users[name].append(i)
    pool: set[int] = set()
    for name in sorted(users, key=lambda p: (len(users[p]), p)):
        if len(pool) >= 2 * k:
            break
        pool.update(users[name])
    train = [key for i, key in enumerate(ordered) if i not in pool]
    evals = [ordered[i] for i in sorted(pool)]
    rng = random.Random(seed)
    rng.shuffle(train)
    rng.shuffle(evals)
    n_val = k if len(evals) >= 2 * k else len(evals) // 2

    def flat(ks):
        return [t for key in ks for t in groups[key]]

    return {"train": flat(train), "val": flat(evals[:n_val]), "test": flat(evals[n_val:])}


def make_splits(
    theorems: Sequence[TheoremRecord], seed: int = DEFAULT_SEED, num_eval: int | None = None
) -> dict[str, dict[str, list[TheoremRecord]]]:
    return {
        "random": split_random(theorems, seed, num_eval),
        "novel_premises": split_novel_premises(theorems, seed, num_eval),
    }


# --------------------------------------------------------------------------- files
class _atomic:
    """Write to `path.tmp`, rename on success: an interrupted run never leaves a half file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.tmp, "w", encoding="utf-8")
        return self.f

    def __exit__(self, exc_type, *rest) -> None:
        self.f.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    with _atomic(path) as f:
        json.dump(data, f, ensure_ascii=False, indent=1)


def write_dataset(
    out: Path,
    theorems: Sequence[TheoremRecord],
    corpus: Corpus,
    metadata: dict,
    seed: int = DEFAULT_SEED,
    num_eval: int | None = None,
) -> dict[str, dict[str, int]]:
    """`out/{random,novel_premises}/{train,val,test}.json`, `out/corpus.jsonl`, `out/metadata.json`.
    Returns the theorem count of every split file."""
    out = Path(out)
    counts: dict[str, dict[str, int]] = {}
    for strategy, splits in make_splits(theorems, seed, num_eval).items():
        counts[strategy] = {}
        for name, recs in splits.items():
            write_json(out / strategy / f"{name}.json", [r.to_json() for r in recs])
            counts[strategy][name] = len(recs)
    corpus.write_jsonl(out / "corpus.jsonl")
    write_json(out / "metadata.json", {**metadata, "seed": seed, "splits": counts})
    return counts


def read_split(path: Path, backend: str | None = None) -> list[TheoremRecord]:
    with open(path, encoding="utf-8") as f:
        return [TheoremRecord.from_json(d, backend) for d in json.load(f)]


def load_splits(out: Path, strategy: str = "random", backend: str | None = None) -> dict[str, list[TheoremRecord]]:
    return {
        name: read_split(Path(out) / strategy / f"{name}.json", backend)
        for name in SPLIT_NAMES
        if (Path(out) / strategy / f"{name}.json").is_file()
    }


# --------------------------------------------------------------------------- datasets view
def _features():
    from datasets import Features, Value
    from datasets import Sequence as HFSeq

    prov = {
        "full_name": Value("string"),
        "def_path": Value("string"),
        "def_pos": HFSeq(Value("int32")),
        "def_end_pos": HFSeq(Value("int32")),
    }
    tactic = {
        "tactic": Value("string"),
        "annotated_tactic": Value("string"),
        "premises": [prov],
        "state_before": Value("string"),
        "state_after": Value("string"),
    }
    return Features(
        {
            "url": Value("string"),
            "commit": Value("string"),
            "file_path": Value("string"),
            "full_name": Value("string"),
            "start": HFSeq(Value("int32")),
            "end": HFSeq(Value("int32")),
            "theorem_statement": Value("string"),
            "backend": Value("string"),
            "traced_tactics": [tactic],
        }
    )


def _row(r: TheoremRecord) -> dict:
    # Arrow cannot hold LeanDojo's mixed `[text, [provenance…]]` pair: it becomes two columns.
    return {
        "url": r.url,
        "commit": r.commit,
        "file_path": r.file_path,
        "full_name": r.full_name,
        "start": _list(r.start) or [],
        "end": _list(r.end) or [],
        "theorem_statement": r.theorem_statement,
        "backend": r.backend,
        "traced_tactics": [
            {
                "tactic": t.tactic,
                "annotated_tactic": t.annotated_tactic[0],
                "premises": [
                    {**p.to_json(), "def_pos": _list(p.def_pos) or [], "def_end_pos": _list(p.def_end_pos) or []}
                    for p in t.premises
                ],
                "state_before": t.state_before,
                "state_after": t.state_after,
            }
            for t in r.traced_tactics
        ],
    }


def to_dataset_dict(splits: dict[str, Sequence[TheoremRecord]]):
    """`datasets.DatasetDict` with one row per theorem (empty splits included)."""
    from datasets import Dataset, DatasetDict

    feats = _features()

    def build(recs: Sequence[TheoremRecord]):
        if not recs:  # from_list cannot type an empty list
            return Dataset.from_dict({k: [] for k in feats}, features=feats)
        return Dataset.from_list([_row(r) for r in recs], features=feats)

    return DatasetDict({name: build(recs) for name, recs in splits.items()})


def load_dataset_dict(out: Path, strategy: str = "random"):
    """The splits a trace (or a LeanDojo benchmark) wrote under `out/strategy/`, as a DatasetDict."""
    return to_dataset_dict(load_splits(out, strategy))


def tactic_pairs(records: Iterable[TheoremRecord]) -> Iterable[dict]:
    """(state_before, tactic) training pairs, as ReProver's generator datamodule uses them."""
    for r in records:
        for t in r.traced_tactics:
            yield {"state": t.state_before, "tactic": t.tactic, "full_name": r.full_name, "file_path": r.file_path}


def summarize(theorems: Sequence[TheoremRecord]) -> dict[str, int]:
    c = Counter(len(t.traced_tactics) > 0 for t in theorems)
    return {"theorems": len(theorems), "with_tactics": c[True], "tactics": sum(len(t.traced_tactics) for t in theorems)}
