"""Statement text: splitting `Lemma name binders : type.`, reading hypotheses from a printed state,
building a mutant's statement, and the normal form used for deduplication."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from proofsmith.envs.base import Goal
from proofsmith.envs.coq.sentences import strip_comments

_HEADER = re.compile(
    r"^\s*(?:#\[[^\]]*\]\s*|(?:Local|Global|Polymorphic|Monomorphic)\s+)*"
    r"(?:Theorem|Lemma|Fact|Remark|Corollary|Proposition|Property|Example)\s+([A-Za-z_][\w']*)",
    re.S,
)


@dataclass(frozen=True)
class StatementParts:
    name: str
    binders: str  # text between the name and the top-level colon ("" when none)
    type: str  # text after the colon, without the final dot


def split_statement(sentence: str) -> StatementParts | None:
    """`Lemma foo (n : nat) : n + 0 = n.` → ("foo", "(n : nat)", "n + 0 = n"); None for `:=` forms."""
    text = strip_comments(sentence).strip()
    m = _HEADER.match(text)
    if not m or not text.endswith("."):
        return None
    rest = text[m.end() : -1]
    depth = 0
    for i, c in enumerate(rest):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ":" and depth == 0 and rest[i + 1 : i + 2] not in ("=", ":") and rest[i - 1 : i] != ":":
            binders, ty = rest[:i].strip(), rest[i + 1 :].strip()
            if re.search(r"(?<![:<])[:]=", ty) and depth == 0 and _top_level_assign(ty):
                return None
            return StatementParts(m.group(1), " ".join(binders.split()), " ".join(ty.split()))
    return None


def _top_level_assign(text: str) -> bool:
    depth = 0
    for i, c in enumerate(text):
        depth += c in "([{"
        depth -= c in ")]}"
        if depth == 0 and text.startswith(":=", i):
            return True
    return False


@dataclass(frozen=True)
class Hyp:
    name: str
    type: str
    is_let: bool = False


def hypotheses(goal: Goal) -> list[Hyp]:
    """`n, m : nat` lines → one `Hyp` per name, in order."""
    out = []
    for line in goal.hypotheses:
        if " := " in line.split(" : ")[0] or re.match(r"^[^:]*:=", line):
            names = line.split(":=", 1)[0]
            out += [Hyp(n.strip(), "", True) for n in names.split(",")]
            continue
        names, _, ty = line.partition(" : ")
        out += [Hyp(n.strip(), ty.strip()) for n in names.split(",")]
    return out


def build_type(binders: Sequence[tuple[str, str]], conclusion: str) -> str:
    """`forall (x : T) (H : P), G` (just `G` without binders)."""
    if not binders:
        return conclusion
    return "forall " + " ".join(f"({n} : {t})" for n, t in binders) + ", " + conclusion


def mutant_statement(name: str, parts: StatementParts, type_text: str) -> str:
    return f"Lemma {name}{' ' + parts.binders if parts.binders else ''} : {type_text}."


# --------------------------------------------------------------------------- dedupe
_TOK = re.compile(r"[A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*|\d+|\S")
_BINDING = ("forall", "fun", "exists", "exists2", "∀", "∃", "λ")


def normal_form(pp: str) -> str:
    """A printed state (hypothesis lines, `⊢ goal`) up to whitespace and the names of its bound
    variables and hypotheses (alpha-equivalence): names become v0, v1… in order of binding."""
    names: dict[str, str] = {}

    def bind(n: str) -> None:
        if n != "_" and n not in names:
            names[n] = f"v{len(names)}"

    lines = [l for l in pp.splitlines() if l.strip()]
    out_lines = []
    for line in lines:
        if not line.startswith("⊢") and " : " in line:
            for n in line.split(" : ")[0].split(":=")[0].split(","):
                bind(n.strip())
        toks = _TOK.findall(line)
        i = 0
        while i < len(toks):
            if toks[i] in _BINDING:
                j = i + 1
                group_open = False
                while j < len(toks) and toks[j] not in (",", "=>"):
                    t = toks[j]
                    if t == "(":
                        group_open = True
                    elif t == ":":
                        # skip the type up to the closing parenthesis (or to the comma)
                        depth = 0
                        while j < len(toks) and not (depth == 0 and toks[j] in (")", ",", "=>")):
                            depth += toks[j] == "("
                            depth -= toks[j] == ")"
                            j += 1
                        group_open = False
                        continue
                    elif re.match(r"[A-Za-z_]", t) and (group_open or True):
                        bind(t)
                    j += 1
                i = j
            i += 1
        out_lines.append(" ".join(names.get(t, t) for t in toks))
    return "\n".join(out_lines)
