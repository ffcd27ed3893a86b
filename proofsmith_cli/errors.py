"""Bad input, caught before any work starts: validators raise `UsageError`, `main` prints it as one
line (`proofsmith: error: ...`) and exits with status 2 (no traceback, nothing written).

Every subcommand validates its paths, specs and numbers up front with these helpers, before it
starts a prover, a Ray worker or a model, and before it writes anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

USAGE_EXIT = 2


class UsageError(Exception):
    """Bad input from the user; the message is one line naming the option and what is wrong."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))  # one line, whatever the message held


def existing_file(path: Path | str, what: str, suffixes: Sequence[str] = ()) -> Path:
    """`path` is a file (with one of `suffixes`, when given)."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} {p}: no such file")
    if not p.is_file():
        raise UsageError(f"{what} {p}: not a file")
    if suffixes and p.suffix not in suffixes:
        raise UsageError(
            f"{what} {p}: expected a {' or '.join(suffixes)} file, not {p.suffix or 'a file without suffix'}"
        )
    return p


def existing_dir(path: Path | str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} {p}: no such directory")
    if not p.is_dir():
        raise UsageError(f"{what} {p}: not a directory")
    return p


def source_dir(path: Path | str, what: str, pattern: str = "*.v", recursive: bool = True) -> Path:
    """A directory holding at least one source file matching `pattern`."""
    p = existing_dir(path, what)
    found = p.rglob(pattern) if recursive else p.glob(pattern)
    if next(iter(found), None) is None:
        raise UsageError(f"{what} {p}: no {pattern} files in it")
    return p


def traced_dataset(path: Path | str, what: str, need: Iterable[str] = ("corpus.jsonl",)) -> Path:
    """A dataset written by `proofsmith trace` holding each of `need` (paths relative to it)."""
    p = existing_dir(path, what)
    missing = [n for n in need if not (p / n).is_file()]
    if missing:
        raise UsageError(
            f"{what} {p}: not a traced dataset (no {', '.join(missing)}); write one with `proofsmith trace --out`"
        )
    return p


def dataset_with_strategies(
    path: Path | str, what: str, strategies: Iterable[str], flag: str, need: Iterable[str] = ()
) -> Path:
    """A traced dataset with a split of each of `strategies` (asked for with `flag`) and each of
    `need`. A strategy the dataset was written without (`novel_packages` of a `proofsmith trace`
    dataset) is one line naming the option, the strategies the dataset has and what writes the one
    it lacks; a directory that is no dataset at all gets `traced_dataset`'s message."""
    from proofsmith.dataset.loading import strategies_on_disk
    from proofsmith.dataset.splits import NOVEL_PACKAGES

    p = existing_dir(path, what)
    have = strategies_on_disk(p)
    missing = [s for s in strategies if s not in have]
    if have and missing:
        hint = (
            f"; {NOVEL_PACKAGES} is written by `proofsmith corpus` (a multi-package corpus), not `proofsmith trace`"
            if NOVEL_PACKAGES in missing
            else ""
        )
        raise UsageError(
            f"{flag} {' '.join(missing)}: {what} {p} has no {', '.join(missing)} split (it has {', '.join(have)}){hint}"
        )
    return traced_dataset(p, what, need)


def corpus_file(path: Path | str, what: str) -> Path:
    """A corpus.jsonl, or a dataset directory holding one; returns the file."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} {p}: no such file or directory")
    if p.is_dir():
        return traced_dataset(p, what) / "corpus.jsonl"
    return existing_file(p, what, (".jsonl",))


def premise_source(path: Path | str, what: str) -> Path:
    """What `--premises` reads: a dense index directory (`proofsmith index --out`: its
    `index_meta.json` names the corpus it embeds) returned as is, else a corpus for BM25 (the file)."""
    p = Path(path)
    meta = p / "index_meta.json"
    if p.is_dir() and meta.is_file():
        try:
            corpus = json.loads(meta.read_text())["extra"]["corpus_path"]
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(
                f"{what} {p}: index_meta.json names no corpus_path (rebuild with `proofsmith index`)"
            ) from e
        if not Path(corpus).is_file():
            raise UsageError(f"{what} {p}: the index's corpus {corpus} is missing")
        return p
    return corpus_file(p, what)


def output_file(path: Path | str, what: str) -> Path:
    """Where a file will be written: not a directory, and not under a file."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{what} {p}: is a directory, expected a file path")
    _parents_are_dirs(p, what)
    return p


def output_dir(path: Path | str, what: str) -> Path:
    """Where a directory will be written (or reused): not an existing file, and not under a file."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{what} {p}: exists and is not a directory")
    _parents_are_dirs(p, what)
    return p


def _parents_are_dirs(p: Path, what: str) -> None:
    for parent in p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{what} {p}: {parent} is a file, not a directory")
            return


def positive(value: float | int | None, what: str, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{what} must be {'>= 0' if allow_zero else '> 0'}, not {value}")


def regex(pattern: str | None, what: str) -> None:
    """`pattern`, when given, compiles as a Python regular expression."""
    if pattern is None:
        return
    import re

    try:
        re.compile(pattern)
    except re.error as e:
        raise UsageError(f"{what} {pattern!r}: not a regular expression ({e})") from None


def generator_spec(spec: str, what: str = "--generator") -> str:
    """A generator spec that can load (every ensemble member: knn index / model directory present);
    returned with local paths absolute."""
    from proofsmith.prover.generators.factory import GeneratorSpecError, check_spec

    try:
        return check_spec(spec)
    except GeneratorSpecError as e:
        raise UsageError(f"{what} {e}") from None


def model_path(arg: str, what: str, extra: tuple[str, ...] = ()) -> str:
    """A Hugging Face model: a local directory with config.json (or one of `extra`), or a Hub name."""
    from proofsmith.prover.generators.factory import GeneratorSpecError, check_model_path

    try:
        return check_model_path(arg, f"{what} {arg}", extra)
    except GeneratorSpecError as e:
        raise UsageError(str(e)) from None


def results_config(out: Path, config: dict[str, Any]) -> None:
    """`out` is a results file path whose recorded job configuration (if any) is `config`."""
    from proofsmith.prover.results import ConfigMismatchError, check_job_config

    output_file(out, "--out")
    try:
        check_job_config(out, config)
    except ConfigMismatchError as e:
        raise UsageError(str(e)) from None


def dense_index(path: Path | str, what: str, corpus_given: bool = False) -> Path:
    """An index directory written by `proofsmith index` (and, unless a corpus is given, the corpus it records)."""
    import json

    p = existing_dir(path, what)
    missing = [f for f in ("index_meta.json", "premises.faiss", "embeddings.npy") if not (p / f).is_file()]
    if missing:
        raise UsageError(f"{what} {p}: not a dense index (no {', '.join(missing)}); build one with `proofsmith index`")
    if not corpus_given:
        try:
            recorded = json.loads((p / "index_meta.json").read_text()).get("extra", {}).get("corpus_path")
        except (OSError, ValueError, AttributeError) as e:
            raise UsageError(f"{what} {p}: unreadable index_meta.json ({e})") from None
        if not recorded:
            raise UsageError(f"{what} {p}: records no corpus; pass --corpus")
        if not Path(recorded).is_file():
            raise UsageError(f"{what} {p}: its corpus {recorded} is gone; pass --corpus")
    return p
