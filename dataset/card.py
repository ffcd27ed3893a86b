"""The dataset card written with a multi-package corpus: `dataset_card.json` and `DATASET.md`.

Per package: version, licence as the package declares it, files, theorems, traced tactics,
premises and failures by reason; then the totals, the splits, and the packages left out and why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from proofsmith.dataset.files import atomic_writer, write_json

CARD_JSON = "dataset_card.json"
CARD_MD = "DATASET.md"
NOT_SELECTED = "not selected (--packages)"


@dataclass
class PackageCard:
    name: str
    version: str  # installed (what was traced)
    listed_version: str  # what the package list was made with
    licence: str  # of `Files: *` in the Debian copyright file (or as the list declares a local project)
    licences: tuple[str, ...]  # every licence the copyright file names
    roots: tuple[str, ...]
    files: int = 0
    files_failed: int = 0  # files the tracer could not replay at all
    theorems: int = 0  # theorem statements the tracer met
    traced_theorems: int = 0  # in the dataset: proved by a tactic script that replayed
    traced_tactics: int = 0
    premises_defined: int = 0  # corpus premises its files define
    premises_used: int = 0  # distinct premises its traced tactics name
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    excluded_files: dict[str, str] = field(default_factory=dict)  # logical prefix -> why
    novel_packages: str = "train"  # the part of the novel_packages split it is in
    coq_flags: tuple[str, ...] = ()  # what it is traced with (the list's `coq_flags`: HoTT's -noinit...)


@dataclass
class ExcludedPackage:
    name: str
    version: str
    reason: str


@dataclass
class DatasetCard:
    name: str
    created: str
    coq_version: str
    seed: int
    packages: list[PackageCard]
    excluded: list[ExcludedPackage]
    splits: dict[str, dict[str, int]]
    held_out: dict[str, list[str]]  # novel_packages: val / test packages
    format: str = "LeanDojo Benchmark 4 (+ backend and package fields)"

    def totals(self) -> dict:
        reasons: Counter[str] = Counter()
        for p in self.packages:
            reasons.update(p.failures_by_reason)
        keys = ("files", "files_failed", "theorems", "traced_theorems", "traced_tactics", "premises_defined")
        out = {"packages": len(self.packages), **{k: sum(getattr(p, k) for p in self.packages) for k in keys}}
        out["failures"] = sum(reasons.values())
        out["failures_by_reason"] = dict(sorted(reasons.items()))
        return out

    def to_json(self) -> dict:
        d = asdict(self)
        d["totals"] = self.totals()
        return d

    def markdown(self) -> str:
        t = self.totals()
        lines = [
            f"# {self.name}",
            "",
            f"Coq {self.coq_version} libraries as Debian ships them, traced by `proofsmith corpus` on {self.created}:",
            f"{t['packages']} packages, {t['files']:,} files, {t['traced_theorems']:,} traced theorems "
            f"({t['theorems']:,} met), {t['traced_tactics']:,} traced tactics, {t['premises_defined']:,} premises "
            f"defined, {t['failures']:,} failures. Format: {self.format}; every theorem record names its `package`.",
            "",
            "## Packages",
            "",
            "| package | version | licence (as declared) | files | theorems | traced tactics | premises "
            "(defined / used) | failures by reason | novel_packages |",
            "|---|---|---|---:|---:|---:|---:|---|---|",
        ]
        for p in self.packages:
            fails = ", ".join(f"{k} {v}" for k, v in sorted(p.failures_by_reason.items())) or "none"
            if p.files_failed:
                fails += f" ({p.files_failed} files failed)"
            version = p.version if p.version == p.listed_version else f"{p.version} (listed {p.listed_version})"
            lines.append(
                f"| {p.name} | {version} | {p.licence} | {p.files} | {p.traced_theorems} | {p.traced_tactics} | "
                f"{p.premises_defined} / {p.premises_used} | {fails} | {p.novel_packages} |"
            )
        lines += [
            "",
            "`theorems`: traced theorems (proved by a tactic script that replays). Every failure is in",
            "`failures.jsonl` with its package, file, theorem, reason and Coq's message.",
        ]
        partial = [p for p in self.packages if p.excluded_files]
        if partial:
            lines += ["", "Files left out of included packages:", ""]
            lines += [f"- {p.name}: `{k}` ({why})" for p in partial for k, why in p.excluded_files.items()]
        flagged = [p for p in self.packages if p.coq_flags]
        if flagged:
            lines += [
                "",
                "Traced with their own Coq flags (every theorem records them in `coq_flags`; the environment",
                "and the verifier pass them too):",
                "",
            ]
            lines += [f"- {p.name}: `{' '.join(p.coq_flags)}`" for p in flagged]
        lines += ["", "## Splits", "", "| strategy | train | val | test |", "|---|---:|---:|---:|"]
        for strategy, parts in self.splits.items():
            lines.append(f"| {strategy} | {parts.get('train', 0)} | {parts.get('val', 0)} | {parts.get('test', 0)} |")
        lines += [
            "",
            "`novel_packages` holds whole packages out (a fixed choice, `dataset/splits.py`): "
            f"val = {', '.join(self.held_out.get('val', [])) or 'none'}; "
            f"test = {', '.join(self.held_out.get('test', [])) or 'none'}. Held-out packages not in this "
            "corpus leave their part smaller.",
            "",
            "## Packages left out",
            "",
        ]
        listed = [e for e in self.excluded if e.reason != NOT_SELECTED]
        lines += [f"- {e.name} {e.version}: {e.reason}" for e in listed] or ["none"]
        unselected = [e.name for e in self.excluded if e.reason == NOT_SELECTED]
        if unselected:
            lines += ["", f"Not selected by `--packages` this time: {', '.join(unselected)}."]
        lines += [
            "",
            "## Licences",
            "",
            "Each package keeps its own licence (the table gives the one declared for `Files: *` in",
            "`/usr/share/doc/<package>/copyright`; `dataset_card.json` lists every licence a copyright file names).",
            "The traced data is derived from those sources; redistribute it under their terms.",
            "",
        ]
        return "\n".join(lines)


def write_card(out: Path, card: DatasetCard) -> None:
    write_json(Path(out) / CARD_JSON, card.to_json())
    with atomic_writer(Path(out) / CARD_MD) as f:
        f.write(card.markdown())
