"""Coq terms as printed with `Set Printing All`, parsed into small trees for head-symbol indexing
and first-order pattern matching.

Printing All is the one printed form without notations: applications are prefix, `->` is printed
as `forall (_ : A), B`, implicit arguments are explicit. Constructs the index never needs to look
into (`match`, `fix`, `let`) become opaque atoms that match anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union

_TOKEN = re.compile(
    r"\s+|(?P<univ>@\{[^}]*\})|(?P<ident>@?[A-Za-z_][\w'.]*)|(?P<num>\d+)|(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<sym>:=|=>|->|<->|[(),:|{}\[\];%])|(?P<other>\S)"
)


@dataclass(frozen=True)
class Const:
    name: str  # as printed, without `@`

    @property
    def key(self) -> str:
        return head_key(self.name)


@dataclass(frozen=True)
class App:
    head: Term
    args: tuple[Term, ...]


@dataclass(frozen=True)
class Binder:
    kind: str  # "forall" | "fun"
    name: str  # "_" for a non-dependent product
    type: Term
    body: Term


@dataclass(frozen=True)
class Opaque:
    text: str


Term = Union[Const, App, Binder, Opaque]


def head_key(name: str) -> str:
    """Index key of a constant: its last component. `PeanoNat.Nat.add` (a module `Include` alias)
    and `Nat.add` must meet; the price is that `N.add` meets them too (Coq then decides)."""
    return name.lstrip("@").rsplit(".", 1)[-1]


class ParseError(ValueError):
    pass


def tokenize(text: str) -> list[str]:
    out = []
    for m in _TOKEN.finditer(text):
        if m.lastgroup is None:
            continue
        tok = m.group(0)
        if m.lastgroup == "univ":  # Type@{u}: drop the universe
            continue
        out.append(tok)
    return out


class _Parser:
    def __init__(self, tokens: list[str]):
        self.toks = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> str:
        if self.i >= len(self.toks):
            raise ParseError("unexpected end of term")
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, tok: str) -> None:
        t = self.next()
        if t != tok:
            raise ParseError(f"expected {tok!r}, got {t!r}")

    def term(self, stops: frozenset[str]) -> Term:
        t = self.peek()
        if t in ("forall", "fun"):
            self.next()
            binders = self.binders(stops)
            self.expect("," if t == "forall" else "=>")
            body = self.term(stops)
            for name, ty in reversed(binders):
                body = Binder(t, name, ty, body)
            return body
        if t == "let":
            return self.opaque_until(stops)
        left = self.app(stops)
        if self.peek() in ("->", "<->"):
            op = self.next()
            right = self.term(stops)
            return Binder("forall", "_", left, right) if op == "->" else App(Const("iff"), (left, right))
        return left

    def binders(self, stops: frozenset[str]) -> list[tuple[str, Term]]:
        out: list[tuple[str, Term]] = []
        if self.peek() == "(":
            while self.peek() == "(":
                self.next()
                names = self.names()
                self.expect(":")
                ty = self.term(frozenset({")"}))
                self.expect(")")
                out += [(n, ty) for n in names]
            return out
        names = self.names()
        self.expect(":")
        ty = self.term(stops | {",", "=>"})
        return [(n, ty) for n in names]

    def names(self) -> list[str]:
        out = []
        while self.peek() not in (":", None):
            out.append(self.next())
        return out

    def app(self, stops: frozenset[str]) -> Term:
        atoms = []
        while True:
            t = self.peek()
            if (
                t is None
                or t in stops
                or t in (")", ",", "=>", "->", "<->", ":=", "|", "end", "with", ":", "in", "return")
            ):
                break
            atoms.append(self.atom(stops))
        if not atoms:
            raise ParseError(f"empty term at {self.peek()!r}")
        return atoms[0] if len(atoms) == 1 else App(atoms[0], tuple(atoms[1:]))

    def atom(self, stops: frozenset[str]) -> Term:
        t = self.next()
        if t == "(":
            inner = self.term(frozenset({")"}))
            self.expect(")")
            return inner
        if t in ("forall", "fun", "let"):
            self.i -= 1
            return self.term(stops)
        if t in ("match", "fix", "cofix", "if"):
            return self.opaque_from(t)
        if t[0].isalpha() or t[0] in "_@" or t[0].isdigit() or t[0] == '"':
            return Const(t.lstrip("@"))
        raise ParseError(f"unexpected token {t!r}")

    def opaque_from(self, first: str) -> Opaque:
        """Skip a `match … end` (nested) or a `fix …` up to the closing parenthesis."""
        depth_m, depth_p = (1 if first == "match" else 0), 0
        parts = [first]
        while (t := self.peek()) is not None:
            if first != "match" and depth_p == 0 and t == ")":
                break
            self.next()
            parts.append(t)
            if t == "(":
                depth_p += 1
            elif t == ")":
                depth_p -= 1
            elif t == "match":
                depth_m += 1
            elif t == "end":
                depth_m -= 1
                if first == "match" and depth_m == 0 and depth_p == 0:
                    break
        return Opaque(" ".join(parts))

    def opaque_until(self, stops: frozenset[str]) -> Opaque:
        parts: list[str] = []
        depth = 0
        while (t := self.peek()) is not None:
            if depth == 0 and (t in stops or t == ")"):
                break
            self.next()
            parts.append(t)
            depth += t == "("
            depth -= t == ")"
        return Opaque(" ".join(parts))


def parse(text: str) -> Term:
    p = _Parser(tokenize(text))
    t = p.term(frozenset())
    if p.peek() is not None:
        raise ParseError(f"trailing tokens from {p.peek()!r}")
    return t


# --------------------------------------------------------------------------- structure
def telescope(t: Term) -> tuple[list[tuple[str, Term]], Term]:
    """The leading `forall` binders of a type and its conclusion."""
    binders = []
    while isinstance(t, Binder) and t.kind == "forall":
        binders.append((t.name, t.type))
        t = t.body
    return binders, t


def head(t: Term) -> str | None:
    """The name at the head of an application (or the constant itself)."""
    if isinstance(t, App):
        return head(t.head)
    if isinstance(t, Const):
        return t.name
    return None


def subterms(t: Term) -> Iterator[Term]:
    yield t
    if isinstance(t, App):
        yield from subterms(t.head)
        for a in t.args:
            yield from subterms(a)
    elif isinstance(t, Binder):
        yield from subterms(t.type)
        yield from subterms(t.body)


def match(pattern: Term, term: Term, variables: frozenset[str], subst: dict | None = None) -> bool:
    """First-order matching of `pattern` (whose free `variables` are holes) against `term`, with
    module aliases identified by `head_key`. Higher-order holes and opaque parts match anything:
    the test only has to be a sound filter (never rejecting what Coq could match)."""
    subst = {} if subst is None else subst
    if isinstance(pattern, Opaque) or isinstance(term, Opaque):
        return True
    if isinstance(pattern, Const):
        if pattern.name in variables:
            bound = subst.get(pattern.name)
            if bound is None:
                subst[pattern.name] = term
                return True
            return bound == term or isinstance(bound, Opaque)
        return isinstance(term, Const) and term.key == pattern.key
    if isinstance(pattern, App):
        ph = pattern.head
        if isinstance(ph, Const) and ph.name in variables:
            return True  # higher-order hole
        if not isinstance(term, App):
            return False
        # Coq matches a partial application inside a longer one (`f a` in `f a b`)
        if len(term.args) < len(pattern.args):
            return False
        extra = len(term.args) - len(pattern.args)
        th = App(term.head, term.args[:extra]) if extra else term.head
        if not match(ph, th, variables, subst):
            return False
        return all(match(p, a, variables, subst) for p, a in zip(pattern.args, term.args[extra:]))
    if isinstance(pattern, Binder):
        return isinstance(term, Binder) and term.kind == pattern.kind
    return False


def is_hole(pattern: Term, variables: frozenset[str]) -> bool:
    """A pattern whose head is a variable matches almost anything: not indexable."""
    h = head(pattern)
    return h is None or h in variables


def head_keys(t: Term) -> set[str]:
    return {h for s in subterms(t) if (h := _key(s))}


def _key(t: Term) -> str | None:
    h = head(t)
    return head_key(h) if h else None


def key_of(t: Term) -> str | None:
    return _key(t)
