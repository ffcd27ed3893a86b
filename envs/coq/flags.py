"""Coq flags a library is compiled with beyond its load paths (HoTT: `-noinit -indices-matter`).

A library's theorems are traced, started and re-checked under the flags its `.vo` files were
compiled with. The package list names them (`coq_flags` in `dataset/coq_packages.toml`); the tracer
passes them to each file's coqidetop and records them with every traced theorem; `load_split` puts
them in the `TheoremRef`, and the environment (coqidetop) and the verifier (coqc, and the axiom
audit's coqidetop) pass what `locate` found for the theorem (`TheoremSource.coq_flags`). A theorem
that carries none gets those of its project's `_CoqProject` (`-arg` lines) or of its installed
library's package list entry.

Only the flags of `COQ_FLAGS` are accepted, wherever they come from (a package list, a traced
record, a `TheoremRef`): each takes no argument and changes the initial prelude or the universe
rules, never what is loaded or run. `-type-in-type` is inconsistent; the axiom audit rejects every
proof that relies on it (`Print Assumptions` reports an unsafe hierarchy).
"""

from __future__ import annotations

COQ_FLAGS: dict[str, str] = {
    "-noinit": "no Coq.Init.Prelude at start: the library brings its own prelude (HoTT, UniMath)",
    "-indices-matter": "the indices of an inductive type count in its universe level (HoTT, UniMath)",
    "-type-in-type": "no universe constraints (UniMath); proofs relying on it never pass the axiom audit",
}


class CoqFlagsError(ValueError):
    """Flags that are not a list of accepted Coq flags (one line, naming the culprit)."""


def check_coq_flags(flags: object, where: str = "coq_flags") -> tuple[str, ...]:
    """`flags` as a tuple when it is a list (or tuple) of distinct accepted flags; else `CoqFlagsError`."""
    if isinstance(flags, (str, bytes)) or not isinstance(flags, (list, tuple)):
        raise CoqFlagsError(f'{where} must be a list of flags, e.g. ["-noinit", "-indices-matter"]')
    out: list[str] = []
    for flag in flags:
        if not isinstance(flag, str) or flag not in COQ_FLAGS:
            raise CoqFlagsError(f"{where}: {flag!r} is not an accepted Coq flag (accepted: {', '.join(COQ_FLAGS)})")
        if flag in out:
            raise CoqFlagsError(f"{where}: {flag} is given twice")
        out.append(flag)
    return tuple(out)
