"""Refuse a library theorem's proof that uses the theorem's own library as compiled.

A traced library theorem is started by replaying its file up to the statement, and the extra
imports the automation needs (`Require Import Lra.`...) come after that context. Those imports can
load the compiled copy of the very file being replayed (`Coq.ZArith.Zdiv` for a theorem of
`Zdiv.v`), so `exact Coq.ZArith.Zdiv.Zmod_le` "proves" `Zmod_le` with itself, and any later lemma
of the file is reachable by its full name. coqc and the axiom audit accept such a proof: it is
circular for evaluation, not unsound. Two checks, both in `verify` (the second also in the live
environment at `Qed`, so a search gets a `CircularProof` and spends no re-check on it):

- textual, before coqc: the proof names the theorem itself (bare or qualified by its modules) or
  anything under the file's logical name (`circular_reference`);
- in Coq, after the axiom audit: `Print All Dependencies` of the checked theorem, and every
  dependency whose last name is declared at or after the statement in the file
  (`later_declarations`, theorems only) is located; one under the file's logical name is the
  compiled copy of a lemma the replayed file had not reached yet (reached, for instance, through a short name an
  import made visible). Earlier lemmas are not checked: the replayed file proved them already.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from proofsmith.envs.base import CIRCULAR

if TYPE_CHECKING:
    from proofsmith.envs.coq.session import CoqIdeSession
    from proofsmith.envs.coq.source import TheoremSource


def circular_reference(proof: str, name: str, module_path: Sequence[str], library: str | None) -> str | None:
    """The first name in `proof` that refers to the theorem itself or to its library's compiled
    copy, or None. `library` None (a file outside every load path) checks the theorem's name only."""
    quals = [".".join(module_path[i:]) for i in range(len(module_path) + 1)]
    own = "|".join(re.escape(f"{q}.{name}" if q else name) for q in quals)
    patterns = [rf"(?<![\w'.])(?:{own})(?![\w'])"]
    if library:
        patterns.append(rf"(?<![\w'.]){re.escape(library)}(?:\.[A-Za-z_][\w']*)+")
    for pattern in patterns:
        m = re.search(pattern, proof)
        if m:
            return m.group(0)
    return None


def later_declarations(source: TheoremSource) -> set[str]:
    """Names of the theorems (Lemma, Theorem, ...) the file states from the theorem's statement on, the
    theorem included. Later definitions are not counted: a tactic's machinery may unfold a compiled
    definition (psatz and `Rsqr`) without borrowing any proof."""
    from proofsmith.envs.coq.source import theorem_name

    return {source.name} | {n for s in source.sentences[source.index :] if (n := theorem_name(s))}


def dependency_names(printed: str) -> list[str]:
    """The (shortest unambiguous) names `Print All Dependencies` lists: each entry starts a line,
    `name : type`; wrapped types continue indented, section headers end with a colon."""
    out: list[str] = []
    for line in printed.splitlines():
        if line[:1].isspace() or " : " not in line:
            continue
        name = line.split(" : ", 1)[0].strip()
        if re.fullmatch(r"[A-Za-z_][\w'.]*", name):
            out.append(name)
    return out


def locate_full_name(session: CoqIdeSession, sid: int, name: str, deadline: float) -> str | None:
    """The full name `Locate Term` gives for a (possibly partial) `name` at state `sid`, or None."""
    reply, notices = session.query(f"Locate Term {name}.", sid, deadline=deadline)
    if not reply.good or not notices:
        return None
    first = notices[0].strip().splitlines()[0]
    parts = first.split()
    return parts[1] if len(parts) >= 2 else None


def circular_dependency(
    session: CoqIdeSession, sid: int, qualified: str, source: TheoremSource, library: str, deadline: float
) -> str | None:
    """Why the proof is refused as circular: a dependency of the checked theorem that is the compiled
    copy of a declaration its file makes at or after the statement (`envs.coq.circularity`), or
    dependencies that cannot be listed; None when it is not."""
    later = later_declarations(source)
    reply, notices = session.query(f"Print All Dependencies {qualified}.", sid, deadline=deadline)
    if not reply.good or session.interrupted:
        return None if session.interrupted else f"cannot list the proof's dependencies: {reply.fail_text}"
    for name in dependency_names("\n".join(notices)):
        if name.rsplit(".", 1)[-1] not in later:
            continue
        full = locate_full_name(session, sid, name, deadline)
        if session.interrupted:
            return None
        if full is not None and full.startswith(library + "."):
            return f"{CIRCULAR}: the proof depends on {full}, the theorem's own library as compiled"
    return None
