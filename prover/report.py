"""Job report: pass rate (invalid statements listed, outside the denominator), proofs, time per
theorem, `report.md`, and a PNG of proved-vs-time-budget."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proofsmith.prover.status import SearchStatus


@dataclass(frozen=True)
class Summary:
    total: int
    valid: int
    proved: int
    invalid: list[str]
    errors: int
    median_seconds: float

    @property
    def pass_rate(self) -> float:
        return self.proved / self.valid if self.valid else 0.0


def summarize(rows: Sequence[dict[str, Any]]) -> Summary:
    invalid = [r["theorem"] for r in rows if r.get("status") == SearchStatus.INVALID_STATEMENT]
    valid = [r for r in rows if r.get("status") != SearchStatus.INVALID_STATEMENT]
    proved = [r for r in valid if r.get("status") == SearchStatus.PROVED]
    secs = [float(r.get("seconds", 0.0)) for r in valid] or [0.0]
    return Summary(
        len(rows),
        len(valid),
        len(proved),
        invalid,
        sum(r.get("status") == SearchStatus.ERROR for r in valid),
        statistics.median(secs),
    )


def plot_budget_curve(rows: Sequence[dict[str, Any]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = sorted(float(r["seconds"]) for r in rows if r.get("status") == SearchStatus.PROVED)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.step([0.0, *times], list(range(len(times) + 1)), where="post")
    ax.set_xlabel("time budget per theorem (s)")
    ax.set_ylabel("theorems proved")
    ax.set_title(f"proved vs time budget ({len(times)} proved)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def write_report(rows: Sequence[dict[str, Any]], out_dir: Path, title: str = "proofsmith prove") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    s = summarize(rows)
    png = out_dir / "proved_vs_budget.png"
    plot_budget_curve(rows, png)
    lines = [
        f"# {title}",
        "",
        f"- theorems: {s.total} ({s.valid} valid, {len(s.invalid)} invalid statements outside the denominator)",
        f"- proved (each re-verified by coqc + axiom audit): **{s.proved}/{s.valid} = {100 * s.pass_rate:.1f}%**",
        f"- errors: {s.errors}; median time per theorem: {s.median_seconds:.2f}s",
        "",
        f"![proved vs budget]({png.name})",
        "",
        "| theorem | status | seconds | expansions | proof |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        proof = " ".join(r.get("proof") or []).replace("|", "\\|")
        lines.append(
            f"| {r['theorem']} | {r.get('status')} | {float(r.get('seconds', 0)):.2f} | "
            f"{r.get('expansions', '')} | `{proof}` |"
            if proof
            else f"| {r['theorem']} | {r.get('status')} | {float(r.get('seconds', 0)):.2f} | {r.get('expansions', '')} | |"
        )
    if s.invalid:
        lines += ["", "Invalid statements (do not elaborate in this Coq): " + ", ".join(s.invalid)]
    md = out_dir / "report.md"
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return md
