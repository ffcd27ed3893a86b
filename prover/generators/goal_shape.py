"""The shape of a Coq proof state, read from its pretty-printed text (`TacticState.pp`).

A state is goals separated by blank lines; each goal is hypothesis lines (`x, y : R`, `H : 0 < x`,
`x := 3 : R`; a long type may continue on indented lines) and a conclusion after `⊢` (or a line
of `=====`, coqtop's form). `parse_state` gives every goal; `GoalShape` answers what the `actions`
generator asks: which variables are reals, integers, naturals; which hypotheses bound a variable;
which calls (`Rabs e`, `Rmax a b`) occur. For a goal that still starts with binders
(`forall x : R, 0 < x -> ...`), `introduce` predicts the context `intros` would make (Coq's
names: the binders', then `H`, `H0`, `H1`... for the premises).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from proofsmith.prover.generators.state_text import goals

_NAME = r"[A-Za-z_][\w']*"
_HYP = re.compile(rf"^({_NAME}(?:\s*,\s*{_NAME})*)\s*(:=|:)\s*(.*)$")
_TURNSTILE = ("⊢", "|-")
_RULE = re.compile(r"^\s*={4,}\s*$")
_IDENT = re.compile(rf"(?<![\w'.]){_NAME}(?![\w'])")
_NUM = r"\d+"

SORTS = {"R": "R", "Z": "Z", "nat": "nat", "N": "N", "Q": "Q", "positive": "positive", "bool": "bool"}
SCOPE = {"R": "R", "Z": "Z", "nat": "nat"}  # the `%` scope of a variable's type
_NOT_INDUCTIVE = {"R", "Q", "Prop", "Type", "Set", "C"}  # no constructors to take apart (Q, C: records of numbers)


@dataclass(frozen=True)
class Hyp:
    names: tuple[str, ...]
    type: str
    value: str | None = None  # `x := value : type`

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Bound:
    """`var OP number` read from a hypothesis (`n < 4`, `n <= 9`, `0 <= n`, `2 < x`)."""

    hyp: str
    var: str
    upper: bool  # var <= / < number (else number <= / < var)
    strict: bool
    number: str


@dataclass(frozen=True)
class GoalShape:
    hyps: tuple[Hyp, ...]
    goal: str
    name: str | None = None
    _vars: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------ variables
    @property
    def variables(self) -> dict[str, str]:
        """name → type for the hypotheses that are values of a known sort (R, Z, nat, ...) or
        functions between them (`f : R -> R`), in order."""
        if not self._vars:
            for h in self.hyps:
                t = " ".join(h.type.split())
                if t in SORTS or _is_function_type(t):
                    for n in h.names:
                        self._vars[n] = t
        return self._vars

    def vars_of(self, sort: str, in_goal_first: bool = True) -> list[str]:
        """Variables of type `sort`, those the goal mentions first."""
        vs = [n for n, t in self.variables.items() if t == sort]
        if in_goal_first:
            used = set(identifiers(self.goal))
            vs = [v for v in vs if v in used] + [v for v in vs if v not in used]
        return vs

    def data_variables(self) -> list[str]:
        """Variables of an inductive data type, by their type's text: the sorts with constructors
        (`nat`, `Z`, `N`, `positive`, `bool`), `list`/`option`/`prod` types, and a bare type name a
        library defines (`x : Rbar`, `c : color`); not `R` or `Q`, not facts (`H : P`)."""
        out = []
        for h in self.hyps:
            t = " ".join(h.type.split())
            if h.value is not None or t in _NOT_INDUCTIVE:
                continue
            if not (t in SORTS or re.fullmatch(r"(?:list|option|prod) .+|[A-Za-z_][\w'.]*", t)) or "->" in t:
                continue
            out += [n for n in h.names if not re.fullmatch(r"H\w*", n)]
        return out

    def functions(self) -> list[str]:
        return [n for n, t in self.variables.items() if _is_function_type(t)]

    @property
    def props(self) -> list[Hyp]:
        """Hypotheses that are not variables (facts: `H : 0 < x`, `h0 : forall x, f x = ...`)."""
        vs = self.variables
        return [h for h in self.hyps if not all(n in vs for n in h.names) and h.value is None]

    def sort_of_text(self, text: str) -> str | None:
        """R, Z or nat when the text mentions variables of that sort (reals first), else None."""
        ids = set(identifiers(text))
        for sort in ("R", "Z", "nat"):
            if any(v in ids for v in self.vars_of(sort, False)):
                return sort
        for f, t in self.variables.items():
            if f in ids and _is_function_type(t):
                return t.split("->")[-1].strip() if t.split("->")[-1].strip() in SCOPE else None
        return None

    @property
    def goal_sort(self) -> str | None:
        if re.search(r"%R\b|\bR[a-z]", self.goal):
            return "R"
        s = self.sort_of_text(self.goal)
        if s:
            return s
        if "%Z" in self.goal or "Z." in self.goal:
            return "Z"
        return None

    # ------------------------------------------------------------------ facts about variables
    def bounds(self) -> list[Bound]:
        """Numeric bounds on variables from simple hypotheses (atoms or conjunctions of atoms)."""
        out: list[Bound] = []
        for h in self.props:
            t = " ".join(h.type.split())
            if t.startswith(("forall", "exists", "~")) or "->" in t or "\\/" in t:
                continue
            for part in _conjuncts(t):
                b = _bound(h.name, part)
                if b is not None:
                    out.append(b)
        return out

    def positivity(self) -> list[tuple[str, str, bool]]:
        """(hypothesis, term, strict) for `H : 0 < t`, `H : 0 <= t`, `H : t > 0`, `H : t >= 0`."""
        out = []
        for h in self.props:
            t = " ".join(h.type.split())
            t = re.sub(r"^\((.*)\)%[RZ]$|^\((.*)\)%nat$", lambda m: m.group(1) or m.group(2), t)
            for pat, strict in ((r"^0 < (.+)$", True), (r"^0 <= (.+)$", False)):
                m = re.match(pat, t)
                if m and top_level(m.group(1)):
                    out.append((h.name, m.group(1), strict))
            for pat, strict in ((r"^(.+) > 0$", True), (r"^(.+) >= 0$", False)):
                m = re.match(pat, t)
                if m and top_level(m.group(1)):
                    out.append((h.name, m.group(1), strict))
        return out

    def definitions(self) -> list[Hyp]:
        """`H : forall x ..., f x = e` hypotheses (miniF2F states function definitions so)."""
        out = []
        for h in self.props:
            t = " ".join(h.type.split())
            m = re.match(r"^forall [^,]+, (.+)$", t)
            if m and "->" not in m.group(1) and " = " in m.group(1) and "forall" not in m.group(1):
                lhs = m.group(1).split(" = ")[0]
                if any(f in identifiers(lhs) for f in self.functions()) or re.match(rf"^{_NAME} ", lhs):
                    out.append(h)
        return out

    def equations(self) -> list[Hyp]:
        """Ground equations `H : lhs = rhs` (no binder)."""
        return [
            h
            for h in self.props
            if " = " in h.type and not h.type.startswith(("forall", "exists")) and "->" not in h.type
        ]

    def calls(self, fname: str, nargs: int = 1, where: str | None = None) -> list[tuple[str, ...]]:
        """Distinct argument tuples of `fname a1 .. an` in the goal (or `where`), in order."""
        return calls(where if where is not None else self.goal, fname, nargs)

    def text(self) -> str:
        """Hypothesis types and goal together (to look for calls anywhere)."""
        return "\n".join([h.type for h in self.hyps] + [self.goal])


def _is_function_type(t: str) -> bool:
    parts = [p.strip() for p in t.split("->")]
    return len(parts) > 1 and all(p in SORTS for p in parts)


def identifiers(text: str) -> list[str]:
    return _IDENT.findall(text)


def top_level(term: str) -> bool:
    """True when `term` has balanced parentheses and no top-level relation (one term)."""
    depth = 0
    for ch in term:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    if depth:
        return False
    flat = strip_parens(term)
    return not re.search(r"(<=|>=|<|>|=|/\\|\\/|->)", flat)


def strip_parens(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _conjuncts(t: str) -> list[str]:
    """`a /\\ b /\\ c` at top level → [a, b, c]; `a <= x <= b` → [a <= x, x <= b]."""
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(t):
        ch = t[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth == 0 and t.startswith("/\\", i):
            parts.append(cur.strip())
            cur = ""
            i += 2
            continue
        cur += ch
        i += 1
    parts.append(cur.strip())
    out = []
    for p in parts:
        p = re.sub(r"^\((.*)\)%(?:nat|Z|R)$", r"\1", p)
        chain = re.split(r"\s(<=|<|>=|>)\s", p)
        if len(chain) == 5:  # a <= x <= b
            out += [f"{chain[0]} {chain[1]} {chain[2]}", f"{chain[2]} {chain[3]} {chain[4]}"]
        else:
            out.append(p)
    return out


def _bound(hyp: str, atom: str) -> Bound | None:
    atom = re.sub(r"%(?:nat|Z|R)\b", "", atom).strip()
    m = re.fullmatch(rf"({_NAME}) (<=|<|>=|>) (-?\s*{_NUM})", atom)
    if m:
        var, op, num = m.groups()
        upper = op in ("<", "<=")
        return Bound(hyp, var, upper, op in ("<", ">"), num.replace(" ", ""))
    m = re.fullmatch(rf"(-?\s*{_NUM}) (<=|<|>=|>) ({_NAME})", atom)
    if m:
        num, op, var = m.groups()
        upper = op in (">", ">=")
        return Bound(hyp, var, upper, op in ("<", ">"), num.replace(" ", ""))
    return None


def _arg_at(text: str, i: int) -> tuple[str, int] | None:
    """The argument starting at text[i] (after spaces): a parenthesised group or an atom."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "(":
        depth = 0
        for j in range(i, len(text)):
            depth += text[j] == "("
            depth -= text[j] == ")"
            if depth == 0:
                return text[i : j + 1], j + 1
        return None
    m = re.match(rf"{_NAME}(?:\.{_NAME})*|\d+(?:%\w+)?", text[i:])
    if m:
        return m.group(0), i + m.end()
    return None


def denominators(text: str) -> list[str]:
    """The non-numeric divisors of `text`, distinct, in order: `(n + 5) / (n - 3)` gives `(n - 3)`,
    `1 / f x` gives `f x` (application binds tighter than `/`). `/\\` (conjunction) is skipped."""
    out: list[str] = []
    for m in re.finditer(r"(?<![\\/])/(?![\\/])", text):
        arg = _arg_at(text, m.end())
        if arg is None:
            continue
        term, j = arg
        if not term.startswith("("):  # an application `f x y`: take the arguments too
            while (nxt := _arg_at(text, j)) is not None and re.match(r"[\w(]", nxt[0]):
                term, j = f"{term} {nxt[0]}", nxt[1]
        if re.fullmatch(r"\(?\s*\d+(?:\.\d+)?(?:%\w+)?\s*\)?", term):
            continue  # a numeral: lra and field handle it already
        if term not in out:
            out.append(term)
    return out


def calls(text: str, fname: str, nargs: int = 1) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for m in re.finditer(rf"(?<![\w'.]){re.escape(fname)}(?![\w'])", text):
        i, args = m.end(), []
        for _ in range(nargs):
            got = _arg_at(text, i)
            if got is None:
                break
            args.append(got[0])
            i = got[1]
        if len(args) == nargs and tuple(args) not in out:
            out.append(tuple(args))
    return out


# ---------------------------------------------------------------------------- parsing
def parse_goal(lines: list[str]) -> GoalShape | None:
    hyps: list[Hyp] = []
    goal: list[str] = []
    name = None
    in_goal = False
    for line in lines:
        s = line.strip()
        if in_goal:
            goal.append(s)
            continue
        if s.startswith("(") and s.endswith(")") and not hyps:
            continue  # `(this subproof is complete; ...)` header
        if s.startswith("case ") and not hyps and name is None:
            name = s[5:].strip()
            continue
        if s.startswith(_TURNSTILE):
            in_goal = True
            goal.append(s[1:].strip() if s.startswith("⊢") else s[2:].strip())
            continue
        if _RULE.match(s):
            in_goal = True
            continue
        m = _HYP.match(line) if not line.startswith((" ", "\t")) else None
        if m:
            names = tuple(n.strip() for n in m.group(1).split(","))
            rest = m.group(3)
            if m.group(2) == ":=":
                value, _, typ = rest.rpartition(" : ")
                hyps.append(Hyp(names, typ.strip(), value.strip() or rest))
            else:
                hyps.append(Hyp(names, rest.strip()))
        elif hyps:  # continuation of the last hypothesis
            last = hyps[-1]
            hyps[-1] = Hyp(last.names, f"{last.type} {s}", last.value)
    if not in_goal:
        return None
    return GoalShape(tuple(hyps), " ".join(g for g in goal if g), name)


def parse_state(pp: str) -> list[GoalShape]:
    """Every goal of a pretty-printed state, in order (the first is the one tactics act on)."""
    return [g for g in (parse_goal(b.splitlines()) for b in goals(pp)) if g is not None]


def first_goal(pp: str) -> GoalShape | None:
    goals = parse_state(pp)
    return goals[0] if goals else None


# ---------------------------------------------------------------------------- intros
def split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside parentheses/brackets."""
    parts, depth, cur, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            parts.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += ch
        i += 1
    parts.append(cur)
    return [p.strip() for p in parts]


def needs_intros(goal: str) -> bool:
    g = goal.lstrip()
    return g.startswith(("forall ", "~")) or len(split_top(g, " -> ")) > 1


def binders(text: str) -> list[tuple[str, str]] | None:
    """`x y : R` or `(x : R) (n : nat)` → [(x, R), (y, R), (n, nat)]."""
    text = text.strip()
    out: list[tuple[str, str]] = []
    if text.startswith("("):
        for grp in re.findall(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)", text):
            names, _, typ = grp.partition(":")
            if not typ:
                return None
            out += [(n, typ.strip()) for n in names.split()]
        return out
    names, _, typ = text.partition(":")
    if not typ:
        return None
    return [(n, typ.strip()) for n in names.split()]


def introduce(shape: GoalShape) -> GoalShape | None:
    """The goal after `intros`, predicted (None when the prediction is unsure: `~`, `let`...)."""
    hyps = list(shape.hyps)
    taken = {n for h in hyps for n in h.names}
    goal = shape.goal.strip()
    changed = False
    for _ in range(50):
        if goal.startswith("forall "):
            head, sep, body = goal[7:].partition(",")
            depth = head.count("(") - head.count(")")
            if not sep or depth:
                # a binder type with a comma inside: give up
                return None
            bound = binders(head)
            if bound is None:
                return None
            for n, t in bound:
                if n in taken:
                    return None  # Coq would rename it
                hyps.append(Hyp((n,), t))
                taken.add(n)
            goal, changed = body.strip(), True
            continue
        parts = split_top(goal, " -> ")
        if len(parts) > 1:
            for p in parts[:-1]:
                hname = _fresh_h(taken)
                hyps.append(Hyp((hname,), p))
                taken.add(hname)
            goal, changed = parts[-1], True
            continue
        break
    if not changed or goal.startswith("~"):
        return None
    return GoalShape(tuple(hyps), goal, shape.name)


def _fresh_h(taken: set[str]) -> str:
    if "H" not in taken:
        return "H"
    i = 0
    while f"H{i}" in taken:
        i += 1
    return f"H{i}"
