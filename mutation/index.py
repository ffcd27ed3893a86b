"""Candidate selection: a head-symbol index of rewrite and apply rules over the premise corpus.

Every lemma's type is read once from Coq (`Check @name` under `Set Printing All`, in one session
that `Require`s the libraries of the dataset), parsed (`mutation.terms`) and filed under:
- `rw`/`rw_rev`: each side of an equation or iff conclusion, keyed by the side's head symbol;
- `fwd`: each non-dependent premise (for `apply L in H` on a hypothesis holding the goal: a goal
  `c` becomes the conclusion of `L` when a premise of `L` matches `c`);
- `bwd`: the conclusion (for `apply L` on a hypothesis `b`: `b` is replaced by `L`'s premises).
A target only tries the rules whose key is a head symbol of the place they would act on, and then
only those whose pattern matches (first-order, `terms.match`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.flags import check_coq_flags
from proofsmith.envs.coq.session import CoqIdeSession, CoqSessionConfig
from proofsmith.mutation import terms as T

RULE_KINDS = ("rw", "rw_rev", "fwd", "bwd")


@dataclass(frozen=True)
class Rule:
    lemma: str  # full name, usable in a tactic where its library is loaded
    kind: str  # one of RULE_KINDS
    pattern: T.Term
    variables: frozenset[str]

    @property
    def key(self) -> str | None:
        return T.key_of(self.pattern)


def rules_of(name: str, type_text: str) -> list[Rule]:
    """The rules a lemma of this (Printing All) type offers; [] when unparseable or unindexable."""
    try:
        ty = T.parse(type_text)
    except T.ParseError:
        return []
    binders, concl = T.telescope(ty)
    variables = frozenset(n for n, _ in binders if n != "_")
    out: list[Rule] = []
    h = T.head(concl)
    if h is not None and isinstance(concl, T.App):
        hk = T.head_key(h)
        if hk == "eq" and len(concl.args) == 3:
            sides = (concl.args[1], concl.args[2])
        elif hk == "iff" and len(concl.args) == 2:
            sides = (concl.args[0], concl.args[1])
        else:
            sides = None
        if sides is not None:
            for kind, side in zip(("rw", "rw_rev"), sides):
                if not T.is_hole(side, variables):
                    out.append(Rule(name, kind, side, variables))
    premises = [ty for n, ty in binders if n == "_"]
    if not T.is_hole(concl, variables):
        if premises:
            out.append(Rule(name, "bwd", concl, variables))
        for p in premises:
            if not T.is_hole(p, variables):
                out.append(Rule(name, "fwd", p, variables))
                break  # Coq's `apply … in` uses the first premise that unifies; one probe per lemma
    return out


class RuleIndex:
    def __init__(self, rules: Iterable[Rule] = ()):
        self.by_key: dict[tuple[str, str], list[Rule]] = defaultdict(list)
        self.count = 0
        for r in rules:
            self.add(r)

    def add(self, rule: Rule) -> None:
        if rule.key is None:
            return
        self.by_key[(rule.kind, rule.key)].append(rule)
        self.count += 1

    def rewrites(self, place: T.Term, allowed: set[str] | None = None) -> list[Rule]:
        """Rewrite rules one of whose sides matches a subterm of `place`."""
        subs = list(T.subterms(place))
        keys = {k for s in subs if (k := T.key_of(s))}
        out: list[Rule] = []
        for kind in ("rw", "rw_rev"):
            for k in keys:
                for r in self.by_key.get((kind, k), ()):
                    if allowed is not None and r.lemma not in allowed:
                        continue
                    if any(T.key_of(s) == k and T.match(r.pattern, s, r.variables) for s in subs):
                        out.append(r)
        return out

    def applies(self, kind: str, place: T.Term, allowed: set[str] | None = None) -> list[Rule]:
        """`fwd`/`bwd` rules whose pattern matches `place` as a whole."""
        k = T.key_of(place)
        if k is None:
            return []
        return [
            r
            for r in self.by_key.get((kind, k), ())
            if (allowed is None or r.lemma in allowed) and T.match(r.pattern, place, r.variables)
        ]


# --------------------------------------------------------------------------- reading types from Coq
_CHECK_SPLIT = re.compile(r"^\S+\s*\n?\s*:\s", re.S)


def parse_check(notice: str) -> str | None:
    """`name\\n     : type` → the type on one line."""
    m = _CHECK_SPLIT.match(notice.strip())
    if not m:
        return None
    return " ".join(notice.strip()[m.end() :].split())


@dataclass
class TypeReader:
    """One coqidetop that has `Require`d the dataset's libraries and prints types in Printing All;
    started with the Coq flags those libraries were traced with (HoTT: -noinit -indices-matter)."""

    load_paths: Sequence[tuple[str, str]]
    libraries: Sequence[str]
    timeout: float = 300.0
    failed_requires: list[str] = field(default_factory=list)
    coq_flags: tuple[str, ...] = ()

    def __enter__(self) -> TypeReader:
        self.session = CoqIdeSession(
            CoqSessionConfig(
                load_paths=tuple(self.load_paths),
                extra_args=check_coq_flags(self.coq_flags),
                call_timeout=self.timeout,
            )
        )
        sid = self.session.start()
        for lib in self.libraries:
            reply = self.session.add(f"Require {lib}.", sid)
            if not reply.good:
                self.failed_requires.append(lib)
                continue
            new = xp.decode_add(reply.value)
            if not self.session.goal().good:  # the Require failed when executed
                self.session.edit_at(sid)
                self.failed_requires.append(lib)
                continue
            sid = new
        for opt in ("Set Printing All.", "Set Printing Width 1000000."):
            reply = self.session.add(opt, sid)
            if reply.good:
                sid = xp.decode_add(reply.value)
        self.session.goal()
        self.sid = sid
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()

    def types(self, names: Sequence[str], batch: int = 64) -> dict[str, str]:
        """Printing All type of each name Coq knows (names it does not know are left out)."""
        out: dict[str, str] = {}
        todo = list(names)
        while todo:
            chunk, todo = todo[:batch], todo[batch:]
            reply, notices = self.session.query(" ".join(f"Check @{n}." for n in chunk), self.sid)
            got = notices[: len(chunk)]
            for n, text in zip(chunk, got):
                ty = parse_check(text)
                if ty is not None:
                    out[n] = ty
            if not reply.good:
                # the query stopped at the first name Coq did not know: skip it, go on after it
                todo = chunk[len(got) + 1 :] + todo
        return out
