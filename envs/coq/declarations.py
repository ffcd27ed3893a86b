"""What a Coq file declares, read from its text alone (no Coq process).

Sentence splitting for tracing (`split_file`), the declaration keywords and block structure
(`Module`, `Section`, `End`), `Require`d libraries, and `parse_declarations`: every global
premise of a file with its span, plus the names Coq generates from inductives.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from proofsmith.dataset.schema import CorpusFile, Pos, Premise
from proofsmith.envs.coq.sentences import (
    COMMENT_OR_STRING,
    Sentence,
    _skip_comment,
    _skip_string,
    split_sentences,
    strip_comments,
)
from proofsmith.envs.coq.source import PROOF_ENDS, THEOREM_KEYWORDS, sentence_body

IDENT = r"[A-Za-z_][\w']*"
_MODS = (
    r"(?:#\[[^\]]*\]\s*|(?:Local|Global|Polymorphic|Monomorphic|Program|Cumulative|NonCumulative|Private|Declare)\s+)*"
)
_DECL_KEYWORDS = THEOREM_KEYWORDS + (
    "Definition",
    "Fixpoint",
    "CoFixpoint",
    "Inductive",
    "CoInductive",
    "Variant",
    "Record",
    "Structure",
    "Class",
    "Instance",
    "Axiom",
    "Parameter",
    "Conjecture",
    "Function",
    "Scheme",
    "Canonical Structure",
    "Canonical",
    "Coercion",
)
_DECL_ALT = "|".join(k.replace(" ", r"\s+") for k in _DECL_KEYWORDS)
_DECL = re.compile(rf"^{_MODS}({_DECL_ALT})\s+({IDENT})(?![\w'])")
_BLOCK = re.compile(rf"^(Module\s+Type|Module|Section)\s+(?:(?:Import|Export)\s+)?({IDENT})")
_END = re.compile(rf"^End\s+({IDENT})\s*\.$")
_REQUIRE = re.compile(rf"^(?:From\s+({IDENT}(?:\.{IDENT})*)\s+)?Require\s+(?:(?:Import|Export)\s+)?(.*)\.$", re.S)
_WORD = re.compile(rf"(?<![\w'.]){IDENT}")  # an identifier not part of a qualified name
_INDUCTIVES = ("Inductive", "CoInductive", "Variant", "Record", "Structure", "Class")
_GENERATED = ("_ind", "_rect", "_rec", "_sind")


def opens_block(body: str) -> tuple[str, str] | None:
    """("Module"|"Module Type"|"Section", name) if the sentence opens an interactive block."""
    m = _BLOCK.match(body)
    if not m or ":=" in body:
        return None
    return " ".join(m.group(1).split()), m.group(2)


def unsealed_module(body: str) -> str:
    """A `Module` opening sentence without its signatures (`Module Nat <: NAxiomsSig <: OrderedTypeFull.`
    becomes `Module Nat.`; functor parameters are kept). A signature is checked at `End`, against the
    whole module body: a file cut after one theorem and closed there fails it, while nothing inside the
    body depends on it. Other sentences are returned as they are."""
    block = opens_block(body)
    if not block or not block[0].startswith("Module"):
        return body
    depth = 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ":" and depth == 0 and body[i + 1 : i + 2] != "=":
            return body[: i - 1 if body[i - 1] == "<" else i].rstrip() + "."
    return body


def closes_block(body: str) -> str | None:
    m = _END.match(body)
    return m.group(1) if m else None


def declared_name(body: str) -> tuple[str, str] | None:
    """(keyword, name) of a declaration sentence."""
    m = _DECL.match(body)
    return (" ".join(m.group(1).split()), m.group(2)) if m else None


def required_libraries(body: str) -> list[str]:
    """The qualified names a `[From P] Require [Import|Export] A B.` sentence loads (P prefixed)."""
    m = _REQUIRE.match(body)
    if not m:
        return []
    names = re.findall(rf"{IDENT}(?:\.{IDENT})*", re.sub(r"\([^)]*\)", " ", m.group(2)))
    return [f"{m.group(1)}.{n}" if m.group(1) else n for n in names]


_NEWLINE = re.compile("\n")


class LineIndex:
    """Character offset → 1-based (line, column)."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def pos(self, offset: int) -> Pos:
        line = bisect_right(self.starts, offset) - 1
        return (line + 1, offset - self.starts[line] + 1)


@dataclass
class Declarations:
    """Premises of one file and where each name (premise or generated alias) is written."""

    premises: list[Premise] = field(default_factory=list)
    name_spans: dict[str, tuple[Pos, Pos]] = field(default_factory=dict)  # full name → its identifier's span
    requires: list[str] = field(default_factory=list)
    short_names: dict[str, list[str]] = field(default_factory=dict)  # last component → full names

    def span_of(self, full_name: str) -> tuple[Pos, Pos] | None:
        if full_name in self.name_spans:
            return self.name_spans[full_name]
        # functor instances and other re-exported copies: a unique short name in the file is enough
        cands = self.short_names.get(full_name.rsplit(".", 1)[-1], [])
        return self.name_spans[cands[0]] if len(cands) == 1 else None


def _proof_end(bodies: list[str], i: int) -> int:
    """Index of the sentence ending the proof opened by sentence i (or i itself for `:=` forms)."""
    for j in range(i + 1, min(len(bodies), i + 5000)):
        body = bodies[j]
        if body in PROOF_ENDS or body.startswith(("Save ", "Abort")):
            return j
        if _DECL.match(body) or opens_block(body) or closes_block(body):
            return j - 1  # no proof (Program obligations, an unterminated proof): stop before the next one
    return i


def _aliases(keyword: str, body: str, prefix: str, name: str) -> list[str]:
    """Names Coq generates from an inductive: constructors, record fields, elimination schemes."""
    out = [name + g for g in _GENERATED]
    if keyword in _INDUCTIVES:
        for block in re.split(r"\bwith\b", body):
            m = re.match(rf"^\s*(?:{_MODS}(?:{'|'.join(_INDUCTIVES)})\s+)?({IDENT})", block)
            if m and m.group(1) != name:
                out += [m.group(1)] + [m.group(1) + g for g in _GENERATED]
            rhs = block.split(":=", 1)[1] if ":=" in block else ""
            out += re.findall(rf"(?:^|\|)\s*({IDENT})(?=\s|:|\(|\{{|$)", rhs.split("{", 1)[0].strip())
            out += re.findall(rf"^\s*({IDENT})\s*\{{", rhs)  # Record's constructor `Build {`
            if "{" in rhs:
                out += re.findall(rf"(?:\{{|;)\s*({IDENT})\s*:>?", rhs)
    return out


def parse_declarations(text: str, library: str) -> Declarations:
    """Every global declaration of the file `text`, whose logical name is `library`."""
    sentences = split_file(text)
    lines = LineIndex(text)
    decls = Declarations()
    stack: list[tuple[str, str]] = []
    bodies = [sentence_body(s) for s in sentences]
    for i, s in enumerate(sentences):
        body = bodies[i]
        block = opens_block(body)
        if block:
            stack.append(block)
            continue
        closed = closes_block(body)
        if closed:
            if stack and stack[-1][1] == closed:
                stack.pop()
            continue
        decls.requires += required_libraries(body)
        found = declared_name(body)
        if not found or any(kind == "Module Type" for kind, _ in stack):
            continue
        keyword, name = found
        prefix = ".".join([library] + [n for kind, n in stack if kind == "Module"])
        stripped = strip_comments(s.text)
        opens_proof = ":=" not in stripped and keyword not in _INDUCTIVES + (
            "Axiom",
            "Parameter",
            "Conjecture",
            "Scheme",
            "Coercion",
        )
        last = sentences[_proof_end(bodies, i)] if opens_proof else s
        start, end = lines.pos(s.start), lines.pos(last.end - 1)
        decls.premises.append(
            Premise(
                f"{prefix}.{name}", stripped.strip(), start, (end[0], end[1] + 1), keyword.lower().replace(" ", "_")
            )
        )
        first_at: dict[str, int] = {}  # each identifier's first offset in the sentence
        for m in _WORD.finditer(s.text):
            first_at.setdefault(m.group(0), m.start())
        for alias in [name] + _aliases(keyword, stripped, prefix, name):
            full = f"{prefix}.{alias}"
            if full in decls.name_spans:
                continue
            at = first_at.get(alias)
            off = s.start + (at if at is not None else 0)
            decls.name_spans[full] = (lines.pos(off), lines.pos(off + (len(alias) if at is not None else 0)))
            decls.short_names.setdefault(alias, []).append(full)
    return decls


def corpus_file(path: str, imports: list[str], decls: Declarations) -> CorpusFile:
    return CorpusFile(path, tuple(dict.fromkeys(imports)), tuple(decls.premises))


def masked_text(text: str) -> str:
    """`text` with comments and strings blanked (same length), so identifiers keep their offsets."""
    if "(*" not in text and '"' not in text:  # most tactics: nothing to blank
        return text
    out, i = [], 0
    while (m := COMMENT_OR_STRING.search(text, i)) is not None:
        j = _skip_string(text, m.start()) if m.group() == '"' else _skip_comment(text, m.start())
        out += [text[i : m.start()], " " * (j - m.start())]
        i = j
    out.append(text[i:])
    return "".join(out)


_ELLIPSIS_END = re.compile(r"(?<!\.)\.\.\.(?=\s)")


def split_file(text: str) -> list[Sentence]:
    """`split_sentences`, also ending a sentence at `tac...` (`Proof with`'s terminator), which the
    shared splitter reads as part of the next sentence."""
    out: list[Sentence] = []
    for s in split_sentences(text, allow_unterminated=True):
        cuts = [m.end() for m in _ELLIPSIS_END.finditer(masked_text(s.text))]
        if not cuts:
            out.append(s)
            continue
        for a, b in zip([0] + cuts, cuts + [len(s.text)]):
            if s.text[a:b].strip():  # a piece may start with bullets: split it again
                out += [
                    Sentence(x.text, s.start + a + x.start, s.start + a + x.end)
                    for x in split_sentences(s.text[a:b], allow_unterminated=True)
                ]
    return out
