"""A dataset directory on disk: writing it, reading its splits back, and the `datasets` view.

`write_dataset` lays out `{random,novel_premises}/{train,val,test}.json` (plus `novel_packages/`
when every theorem has a package), `corpus.jsonl` and `metadata.json`; `write_split_file` writes one
split from records already serialized (`proofsmith corpus` streams them, never holding the corpus in
memory); `load_splits` / `load_dataset_dict` read a trace (or a LeanDojo benchmark) back, the latter
as the `datasets.DatasetDict` that training code reads.

Beside the splits, the tracer's per-file outputs: `traced/<path>.json` in a `proofsmith trace`
dataset, `packages/<pkg>/traced/<path>.json` in a `proofsmith corpus` one; `traced_outputs` lists
either (with the package), `package_traced_dir` is where a corpus keeps a package's.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from proofsmith.dataset.corpus import Corpus
from proofsmith.dataset.files import atomic_writer, write_json
from proofsmith.dataset.schema import TheoremRecord, pos_to_json
from proofsmith.dataset.splits import (
    ALL_SPLIT_STRATEGIES,
    DEFAULT_SEED,
    NOVEL_PACKAGES,
    SPLIT_NAMES,
    SPLIT_STRATEGIES,
    make_splits,
)


def write_dataset(
    out: Path,
    theorems: Sequence[TheoremRecord],
    corpus: Corpus,
    metadata: dict,
    seed: int = DEFAULT_SEED,
    num_eval: int | None = None,
) -> dict[str, dict[str, int]]:
    """`out/{random,novel_premises}/{train,val,test}.json` (and `out/novel_packages/...` when every
    theorem has a package), `out/corpus.jsonl`, `out/metadata.json`. Returns the theorem count of
    every split file."""
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


def write_split_file(path: Path, records: Iterable[str]) -> int:
    """A split file (a JSON array) from records already serialized as JSON objects, one per line;
    written atomically. Returns the number of records."""
    n = 0
    with atomic_writer(Path(path)) as f:
        f.write("[")
        for text in records:
            f.write(",\n" if n else "\n")
            f.write(text)
            n += 1
        f.write("\n]\n")
    return n


def read_split(path: Path, backend: str | None = None) -> list[TheoremRecord]:
    with open(path, encoding="utf-8") as f:
        return [TheoremRecord.from_json(d, backend) for d in json.load(f)]


def iter_split(path: Path, chunk_chars: int = 1 << 20) -> Iterator[dict]:
    """The objects of a split file (a JSON array, LeanDojo's format) one at a time, reading the file in
    chunks: memory holds one record and one chunk, not the whole file."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8") as f:
        buf = ""

        def more() -> bool:
            nonlocal buf
            chunk = f.read(chunk_chars)
            buf += chunk
            return bool(chunk)

        while not buf.strip() and more():
            pass
        buf = buf.lstrip()
        if not buf.startswith("["):
            raise ValueError(f"{path}: not a JSON array")
        buf = buf[1:]
        while True:
            buf = buf.lstrip(" \t\r\n,")  # between records: whitespace and separating commas
            while not buf and more():
                buf = buf.lstrip(" \t\r\n,")
            if not buf or buf[0] == "]":
                return
            while True:
                try:
                    obj, end = decoder.raw_decode(buf)
                    break
                except json.JSONDecodeError:  # the record runs past the chunk: read on
                    if not more():
                        raise
            yield obj
            buf = buf[end:]


def load_splits(out: Path, strategy: str = "random", backend: str | None = None) -> dict[str, list[TheoremRecord]]:
    return {
        name: read_split(Path(out) / strategy / f"{name}.json", backend)
        for name in SPLIT_NAMES
        if (Path(out) / strategy / f"{name}.json").is_file()
    }


def strategies_on_disk(out: Path) -> tuple[str, ...]:
    """The split strategies `out` holds a directory of, in `ALL_SPLIT_STRATEGIES` order."""
    return tuple(s for s in ALL_SPLIT_STRATEGIES if (Path(out) / s).is_dir())


def dataset_strategies(out: Path) -> tuple[str, ...]:
    """What the downstream commands use by default: `random` and `novel_premises` (every dataset has
    them), plus `novel_packages` when `out` has it (a `proofsmith corpus` dataset)."""
    return SPLIT_STRATEGIES + tuple(s for s in strategies_on_disk(out) if s == NOVEL_PACKAGES)


def split_files_text(out: Path) -> str:
    """`OUT/{random,novel_premises}/{train,val,test}.json`, naming the strategies written under `out`."""
    strategies = strategies_on_disk(out) or SPLIT_STRATEGIES
    return f"{out}/{{{','.join(strategies)}}}/{{{','.join(SPLIT_NAMES)}}}.json"


# --------------------------------------------------------------------------- per-file outputs
TRACED_DIR = "traced"  # the tracer's per-file outputs: DATASET/traced/<path>.json (`proofsmith trace`)
PACKAGES_DIR = "packages"  # DATASET/packages/<pkg>/traced/<path>.json (`proofsmith corpus`)


def package_traced_dir(out: Path, package: str) -> Path:
    """Where a `proofsmith corpus` dataset keeps the per-file outputs of `package`."""
    return Path(out) / PACKAGES_DIR / package / TRACED_DIR


@dataclass(frozen=True)
class TracedOutput:
    """One per-file output of the tracer under a dataset, with the package it belongs to (the name of
    its `packages/<pkg>/` directory in a corpus; None in a plain trace)."""

    path: Path
    package: str | None = None


def traced_outputs(out: Path) -> Iterator[TracedOutput]:
    """The tracer's per-file outputs under the dataset `out`, whichever command wrote it: `traced/**.json`
    (`proofsmith trace`, package None), then `packages/<pkg>/traced/**.json` (`proofsmith corpus`, by
    package name), each sorted by path."""
    out = Path(out)
    traced = out / TRACED_DIR
    if traced.is_dir():
        for p in sorted(traced.rglob("*.json")):
            yield TracedOutput(p)
    packages = out / PACKAGES_DIR
    for pdir in sorted(packages.iterdir()) if packages.is_dir() else ():
        ptraced = pdir / TRACED_DIR
        if pdir.is_dir() and ptraced.is_dir():
            for p in sorted(ptraced.rglob("*.json")):
                yield TracedOutput(p, pdir.name)


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
            "package": Value("string"),
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
        "start": pos_to_json(r.start) or [],
        "end": pos_to_json(r.end) or [],
        "theorem_statement": r.theorem_statement,
        "backend": r.backend,
        "package": r.package,
        "traced_tactics": [
            {
                "tactic": t.tactic,
                "annotated_tactic": t.annotated_tactic[0],
                "premises": [
                    {
                        **p.to_json(),
                        "def_pos": pos_to_json(p.def_pos) or [],
                        "def_end_pos": pos_to_json(p.def_end_pos) or [],
                    }
                    for p in t.premises
                ],
                "state_before": t.state_before,
                "state_after": t.state_after,
            }
            for t in r.traced_tactics
        ],
    }


def _empty_dataset(feats):
    from datasets import Dataset

    return Dataset.from_dict({k: [] for k in feats}, features=feats)


def to_dataset_dict(splits: Mapping[str, Sequence[TheoremRecord]]):
    """`datasets.DatasetDict` with one row per theorem (empty splits included)."""
    from datasets import Dataset, DatasetDict

    feats = _features()

    def build(recs: Sequence[TheoremRecord]):
        if not recs:  # from_list cannot type an empty list
            return _empty_dataset(feats)
        return Dataset.from_list([_row(r) for r in recs], features=feats)

    return DatasetDict({name: build(recs) for name, recs in splits.items()})


def load_dataset_dict(out: Path, strategy: str = "random"):
    """The splits a trace (or a LeanDojo benchmark) wrote under `out/strategy/`, as a DatasetDict;
    `strategy` is `random`, `novel_premises` or (a `proofsmith corpus` dataset) `novel_packages`.

    Each split file is streamed record by record into an Arrow file (the `datasets` cache, keyed by
    the file's path, size and modification time), so memory stays flat whatever the corpus size."""
    from datasets import Dataset, DatasetDict

    feats = _features()
    parts = {}
    for name in SPLIT_NAMES:
        path = Path(out) / strategy / f"{name}.json"
        if not path.is_file():
            continue
        if next(iter_split(path), None) is None:  # from_generator cannot build an empty split
            parts[name] = _empty_dataset(feats)
            continue
        st = path.stat()
        parts[name] = Dataset.from_generator(
            _split_rows,
            features=feats,
            gen_kwargs={"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns},
        )
    return DatasetDict(parts)


def _split_rows(path: str, size: int, mtime_ns: int) -> Iterator[dict]:
    # size and mtime_ns only key the cache: a rewritten file is read again
    for d in iter_split(Path(path)):
        yield _row(TheoremRecord.from_json(d))


def tactic_pairs(records: Iterable[TheoremRecord]) -> Iterable[dict]:
    """(state_before, tactic) training pairs, as ReProver's generator datamodule uses them."""
    for r in records:
        for t in r.traced_tactics:
            yield {"state": t.state_before, "tactic": t.tactic, "full_name": r.full_name, "file_path": r.file_path}


def summarize(theorems: Sequence[TheoremRecord]) -> dict[str, int]:
    c = Counter(len(t.traced_tactics) > 0 for t in theorems)
    return {"theorems": len(theorems), "with_tactics": c[True], "tactics": sum(len(t.traced_tactics) for t in theorems)}
