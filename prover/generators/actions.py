"""`actions`: structural steps for competition mathematics, read off the shape of the goal.

The `auto` generator offers closers (lra, nia, ...) and a few structural steps; best-first search
then has nothing to expand when no closer finishes the goal at once. `actions` proposes the steps a
human (or a Lean prover writing `nlinarith [sq_nonneg (a - b)]`) takes first, each one tactic
sentence, ranked by a fixed prior (higher = tried first):

- ground nat equations with powers or residues computed in binary (`5 ^ 2005 mod 100 = 25`: each
  operator moved to Z by `Nat2Z.inj_*`, then `vm_compute`);
- bounded enumeration of a nat/Z variable with numeric bounds (`n < 4`: `destruct n as
  [|[|[|[|n]]]]; try lia`, or `assert (n = 0 \\/ ...) by lia; destruct ...` for integers);
- `Rabs`/`Z.abs`/`Rmax`/`Rmin` case splits, then order splits on pairs of variables
  (`destruct (Rle_lt_dec x y)`, `Z_le_gt_dec`, `le_lt_dec`);
- nonlinear arithmetic: `psatz R 2` / `psatz Z 2` (Positivstellensatz, degree 2; needs the
  `csdp` solver, which `make setup` installs), hints followed by the closer in the same sentence
  (`pose proof (pow2_ge_0 (x - y)); nra`, products of positivity hypotheses, `Z.square_nonneg`...
  with `nia`);
- facts about square roots for nra (`pose proof (sqrt_sqrt t ltac:(first [lra | nra])); pose proof
  (sqrt_pos t)`);
- rewriting with the function definitions miniF2F states as hypotheses (`rewrite !h0`);
- stating a fact quantified over one number at small points (`h : forall x, f (x + 3) = ...`: `try
  pose proof (h 0); try pose proof (h 1); ...`), its side conditions by lra/lia;
- `field_simplify_eq` (an equation times its divisors, side conditions from the context),
  `field_simplify`, `ring_simplify` (in the goal, in hypotheses with a division), and clearing the
  denominators of an equation hypothesis (Lean's `field_simp at h`: multiply by the divisors, simplify,
  discharge `d <> 0` from the context);
- both sides of `p * n <= p * m` commuted (`rewrite (Z.mul_comm p n), (Z.mul_comm p m)`), for the lemma
  stated for the other side;
- `>`/`>=` turned into `<`/`<=` (what `Z.swap_greater` does, `unfold gt, ge in *`), which the libraries' lemmas use;
- case analysis on a variable of a data type (`destruct n; simpl; auto` for `n : N`, a library's `x :
  Rbar`...), and on a disjunction or existential among the facts;
- parity and residues (`Nat.Even_or_Odd`, `Z.mod_pos_bound`, `Z.div_mod`), `induction n`,
  `interval with (i_bisect x)` for real goals with bounds;
- the premises the search retrieved: all of the top k at once through CoqHammer's reconstruction
  (`hauto use: L1, ..., Lk`) and `eauto using L1, ..., Lk`, then each alone (`apply L`, `rewrite L`,
  ...), below the structural steps; for an existential goal, the witness from a lemma (`eexists; eapply L`).

A goal that still starts with binders gets `intros` (best) and the same steps prefixed with
`intros; `, on the context `intros` is predicted to make (`goal_shape.introduce`). Closers alone
are left to `auto`: use `ensemble:auto+actions`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from proofsmith.prover.generators.automation import AUTOMATION_IMPORTS, REWRITE_DEFS
from proofsmith.prover.generators.base import BatchByLoop, Candidate, dedupe_candidates
from proofsmith.prover.generators.goal_shape import (
    SORTS,
    GoalShape,
    Hyp,
    binders,
    calls,
    denominators,
    first_goal,
    identifiers,
    introduce,
    needs_intros,
    split_top,
    strip_parens,
)

DEFAULT_PREMISES = 8  # top-k retrieved premises turned into apply/rewrite candidates
MAX_ENUM = 12  # largest number of cases an enumeration may make
MAX_VARS = 4  # variables considered for pairwise hints and splits
MAX_CASES = 2  # variables (and facts) taken apart by case analysis
MAX_UNFOLD = 3  # constants of the goal unfolded

# What `Z.swap_greater` does (a bare `Z.swap_greater` reads as a command to the tactic checker).
Z_SWAP_GREATER = "rewrite ?Z.gt_lt_iff in *; rewrite ?Z.ge_le_iff in *"

# The relations a goal's two sides are read around (`mirrors`), and commutativity per sort and operator.
_RELATIONS = (" <= ", " < ", " >= ", " > ", " = ", " <> ")
COMMUTATIVITY = {
    "Z": {"*": "Z.mul_comm", "+": "Z.add_comm"},
    "nat": {"*": "Nat.mul_comm", "+": "Nat.add_comm"},
    "R": {"*": "Rmult_comm", "+": "Rplus_comm"},
}

# Prior scores (log-probability-like) per kind of step; within a kind, later candidates lose 0.05 each.
PRIOR = {
    "intros": 0.0,
    "enum": -0.5,
    "compute": -0.6,
    "abs": -0.7,
    "instances": -0.75,
    "defs": -0.8,
    "sqrt": -0.9,
    "hints": -1.0,
    "minmax": -1.1,
    "field": -1.4,
    "parity": -1.5,
    "orient": -1.6,
    "cases": -1.7,
    "order": -1.8,
    "unfold": -1.9,
    "induction": -2.0,
    "interval": -2.2,
    "premise": -3.0,
}

# Scores are PRIOR * SHARPNESS: in a mixture (`ensemble:auto+actions`) each member's scores are
# normalised over its own candidates, so a sharper prior keeps the first steps likely and the search
# deepens along them instead of expanding every sibling first.
SHARPNESS = 2.0

_PREMISE_NAME = re.compile(r"<a>([^<]+)</a>")
_DECL_NAME = re.compile(
    r"^\s*(?:#\[[^\]]*\]\s*)?(?:Local\s+|Global\s+)?"
    r"(?:Lemma|Theorem|Fact|Remark|Corollary|Proposition|Property|Definition|Instance)\s+([A-Za-z_][\w'.]*)"
)
_QUALIFIED_NAME = r"[A-Za-z_][\w']*(?:\.[A-Za-z_][\w']*)*"  # `x`, `Z.add`, `Coq.Reals.Rdefinitions.Rle`
_QUALIFIED = re.compile(rf"(?<![\w'.]){_QUALIFIED_NAME}")  # each one in a term
_BINDER = re.compile(r"\b(?:forall|exists|fun)\s+([^,:=]+)")  # the names a binder of the goal binds
_KEYWORDS = {"forall", "exists", "fun", "match", "with", "end", "if", "then", "else", "let", "in", "as", "return"}
_KEYWORDS |= {"Type", "Prop", "Set", "True", "False", "true", "false", "S", "O", "nil", "cons", "Some", "None"}
_QUALID = re.compile(rf"^{_QUALIFIED_NAME}$")  # a term that is one


def premise_name(premise: str) -> str | None:
    """The name to use in a tactic, from a premise as the search passes it: a (qualified) name, a
    serialized premise (`... <a>Full.name</a> ...`) or a declaration's code (`Lemma foo : ...`)."""
    p = premise.strip()
    if _QUALID.match(p):
        return p
    m = _PREMISE_NAME.search(p) or _DECL_NAME.match(p)
    return m.group(1) if m else None


def _scoped(term: str, sort: str | None) -> str:
    """`(term)%R`: numerals and operators read in the variable's scope whatever scope is open."""
    if sort in ("R", "Z", "nat"):
        return f"({term})%{sort}"
    return f"({term})"


def _paren(term: str) -> str:
    """`term` as one argument: atoms and numerals bare, anything else in parentheses."""
    return term if re.fullmatch(r"[\w'.]+", term) or term.startswith("(") else f"({term})"


def _num(n: int, sort: str) -> str:
    return f"{n}%{sort}" if n >= 0 else f"({n})%{sort}"


class ActionGenerator(BatchByLoop):
    """Structural candidates from the goal's shape; see the module docstring."""

    required_imports = AUTOMATION_IMPORTS

    def __init__(self, num_premises: int = DEFAULT_PREMISES):
        self.num_premises = num_premises

    # ------------------------------------------------------------------ protocol
    def generate(self, state_pp: str, premises: Sequence[str], num: int) -> list[Candidate]:
        shape = first_goal(state_pp)
        if shape is None:
            return []
        if needs_intros(shape.goal):
            out: list[Candidate] = [("intros", PRIOR["intros"])]
            after = introduce(shape)
            if after is not None:
                out += [(f"intros; {t}", s - 0.1) for t, s in self.actions(after, premises)]
            return dedupe_candidates(out, num)
        return dedupe_candidates(self.actions(shape, premises), num)

    def actions(self, g: GoalShape, premises: Sequence[str] = ()) -> list[Candidate]:
        out: list[Candidate] = []
        if is_conjunction(g.goal):
            out.append(("split", PRIOR["intros"]))
        closers = CLOSERS.get(g.goal_sort or "", ())
        for kind, tactics in (
            ("enum", self.enumerations(g)),
            ("compute", self.binary_computation(g)),
            ("abs", _finished(self.abs_splits(g), closers)),
            ("defs", _finished(self.definition_rewrites(g), closers)),
            ("instances", self.instantiations(g)),
            ("sqrt", self.sqrt_facts(g)),
            ("hints", self.nonlinear_hints(g)),
            ("minmax", _finished(self.minmax_splits(g), closers)),
            ("field", self.simplifications(g)),
            ("parity", _finished(self.parity(g), closers)),
            ("orient", self.orientations(g) + self.mirrors(g)),
            ("cases", self.constructor_cases(g) + self.hypothesis_cases(g)),
            ("order", _finished(self.order_splits(g), closers)),
            ("unfold", self.unfoldings(g)),
            ("induction", self.inductions(g)),
            ("interval", self.intervals(g)),
            ("premise", self.premise_steps(premises, is_existential(g.goal))),
        ):
            out += [(t, SHARPNESS * (PRIOR[kind] - 0.05 * i)) for i, t in enumerate(tactics)]
        return out

    # ------------------------------------------------------------------ case analysis
    def enumerations(self, g: GoalShape) -> list[str]:
        """Bounded enumeration of a nat/Z variable (`n < 4`, `1 <= x <= 9`)."""
        out: list[str] = []
        bounds = g.bounds()
        for var, sort in g.variables.items():
            if sort not in ("nat", "Z"):
                continue
            lo: int | None = 0 if sort == "nat" else None
            hi: int | None = None
            for b in bounds:
                if b.var != var:
                    continue
                n = int(b.number)
                if b.upper:
                    v = n - 1 if b.strict else n
                    hi = v if hi is None else min(hi, v)
                else:
                    v = n + 1 if b.strict else n
                    lo = v if lo is None else max(lo, v)
            if lo is None or hi is None or hi < lo or hi - lo + 1 > MAX_ENUM:
                continue
            values = list(range(lo, hi + 1))
            if sort == "nat" and lo == 0:
                pattern = "[|" * (hi + 1) + var + "]" * (hi + 1)
                out.append(f"destruct {var} as {pattern}; try lia")
                out.append(f"destruct {var} as {pattern}; simpl in *; try lia; try nia")
            cases = " \\/ ".join(f"{var} = {_num(v, sort)}" for v in values)
            if len(values) == 1:
                out.append(f"assert ({cases}) as Hcase by lia; subst {var}")
                continue
            names = _nested_or(len(values))
            out.append(f"assert ({cases}) as Hcase by lia; destruct Hcase as {names}; subst {var}; try lia")
            out.append(f"assert ({cases}) as Hcase by lia; destruct Hcase as {names}; subst {var}")
        return out

    def binary_computation(self, g: GoalShape) -> list[str]:
        """A ground equation over nat with powers or residues (`5 ^ 2005 mod 100 = 25`): nat numbers
        are unary, so `vm_compute` builds 5^2005 successor by successor and times out. Moved to Z
        (binary) operator by operator first; each rewrite names its arguments, because a bare
        `rewrite ?Nat2Z.inj_mul` makes unification unfold `19 ^ 19` looking for a product."""
        goal = strip_parens(g.goal.replace("%nat", ""))  # a nat goal printed in another scope
        if len(split_top(goal, " = ")) != 2 or not re.search(r"\^| mod ", goal) or "%" in goal:
            return []
        if set(identifiers(goal)) - {"mod"}:
            return []
        # a Z goal needs no move (the rewrite fails at once there); auto has this closer too, but
        # behind closers that spend their time limit on 5 ^ 2005
        return [NAT_TO_Z_COMPUTE, "vm_compute; reflexivity"]

    def abs_splits(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        text = g.text()
        for (a,) in g.calls("Rabs", 1, text):
            out.append(
                f"destruct (Rle_lt_dec 0 {a}) as [Habs|Habs]; "
                f"[rewrite (Rabs_right {a}) in * by lra | rewrite (Rabs_left {a}) in * by lra]"
            )
            out.append(f"unfold Rabs in *; destruct (Rcase_abs {a})")
        if g.calls("Rabs", 1, text):
            out.append("split_Rabs")
        for (a,) in g.calls("Z.abs", 1, text):
            out.append(f"destruct (Z.abs_spec {a}) as [[Habs Heq]|[Habs Heq]]; rewrite Heq in *")
        return out

    def minmax_splits(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        text = g.text()
        for f in ("Rmax", "Rmin"):
            for a, b in g.calls(f, 2, text):
                out.append(f"unfold {f} in *; destruct (Rle_dec {a} {b})")
        for f in ("Z.max", "Z.min"):
            for a, b in g.calls(f, 2, text):
                out.append(f"destruct ({f}_spec {a} {b}) as [[Hm Heq]|[Hm Heq]]; rewrite Heq in *")
        return out

    def orientations(self, g: GoalShape) -> list[str]:
        """`>`/`>=` turned into `<`/`<=` in the goal and the context (Zorder's own proofs start with
        `Z.swap_greater`): the libraries state their lemmas with `<`, which `apply` then matches."""
        if not re.search(r" >=? ", g.text()):
            return []
        sorts = {g.goal_sort, *g.variables.values()}
        return [t for sort, t in (("Z", Z_SWAP_GREATER), ("nat", "unfold gt, ge in *")) if sort in sorts]

    def mirrors(self, g: GoalShape) -> list[str]:
        """Both sides of the goal's relation the same operation with the same variable on the same side
        (`p * n <= p * m`): commuted, so that the libraries' lemma for the other side applies (Zorder proves
        `Zmult_le_compat_l` next to `Zmult_le_compat_r`). Only `x op y` sides of atoms: `rewrite !(comm p)`
        loops on `p * p`."""
        sides = next((parts for rel in _RELATIONS if len(parts := split_top(g.goal, rel)) == 2), None)
        if sides is None:
            return []
        m = [re.fullmatch(r"([\w']+) ([*+]) ([\w']+)", strip_parens(x.strip())) for x in sides]
        if not (m[0] and m[1]) or m[0].group(2) != m[1].group(2):
            return []
        (a, op, b), (c, _, d) = m[0].groups(), m[1].groups()
        shared = a if a == c else b if b == d else None
        if shared is None or (a, b) == (c, d):
            return []
        lemma = COMMUTATIVITY.get(g.variables.get(shared) or g.goal_sort or "", {}).get(op)
        return [f"rewrite ({lemma} {a} {b}), ({lemma} {c} {d})"] if lemma else []

    def constructor_cases(self, g: GoalShape) -> list[str]:
        """Case analysis on a variable of an inductive type the goal mentions (`N`, `Z`, `positive`,
        `bool`, a library's own `Rbar`...): the libraries' proofs of `Z.of_N (N.succ n) = ...` start
        with `destruct n`, each constructor then computes (`simpl`)."""
        used = set(identifiers(g.goal))
        out: list[str] = []
        for v in [v for v in g.data_variables() if v in used][:MAX_CASES]:
            out += [f"destruct {v}; simpl; auto", f"destruct {v}; simpl in *; try lia", f"destruct {v}"]
        return out

    def hypothesis_cases(self, g: GoalShape) -> list[str]:
        """A disjunction or an existential among the facts, taken apart (`destruct H as [H|H]`)."""
        out: list[str] = []
        for h in g.props:
            t = " ".join(h.type.split())
            if t.startswith("exists ") or len(split_top(strip_parens(t), " \\/ ")) > 1:
                out.append(f"destruct {h.name}")
        return out[:MAX_CASES]

    def order_splits(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        dec = {"R": "Rle_lt_dec", "Z": "Z_le_gt_dec", "nat": "le_lt_dec"}
        for sort, lemma in dec.items():
            vs = g.vars_of(sort)[:MAX_VARS]
            for x, y in itertools.combinations(vs, 2):
                out.append(f"destruct ({lemma} {x} {y})")
            if sort == "R":
                for x in vs[:2]:
                    out.append(f"destruct (Rle_lt_dec 0 {x})")
        return out

    # ------------------------------------------------------------------ nonlinear arithmetic
    def sqrt_facts(self, g: GoalShape) -> list[str]:
        """What nra needs to know of each `sqrt t` in the goal or context: `sqrt t * sqrt t = t`
        (`sqrt_sqrt`, its `0 <= t` by lra or nra) and `0 <= sqrt t`; one step, the closer comes next."""
        args = list(dict.fromkeys(a for (a,) in calls(g.text(), "sqrt")))[:3]
        facts = [
            f"pose proof (sqrt_sqrt {_paren(a)} ltac:(first [lra | nra])); pose proof (sqrt_pos {_paren(a)})"
            for a in args
        ]
        weak = [f"pose proof (sqrt_pos {_paren(a)})" for a in args]
        return (["; ".join(facts)] if len(facts) > 1 else []) + facts + weak

    def nonlinear_hints(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        for sort, sq, closer in (("R", "pow2_ge_0", "nra"), ("Z", "Z.square_nonneg", "nia")):
            if is_conjunction(g.goal):
                closer = f"repeat split; {closer}"
            mentioned = set(identifiers(g.text()))
            vs = [v for v in g.vars_of(sort) if v in mentioned][:MAX_VARS]
            if not vs:
                continue
            pairs = list(itertools.combinations(vs, 2))
            diffs = [f"pose proof ({sq} {_scoped(f'{x} - {y}', sort)})" for x, y in pairs]
            sums = [f"pose proof ({sq} {_scoped(f'{x} + {y}', sort)})" for x, y in pairs]
            singles = [f"pose proof ({sq} {v})" for v in vs]
            prods = self._positivity_products(g, sort)
            # Positivstellensatz of degree 2 (Coq's psatz, with the csdp solver): finds the squares
            # and products itself, e.g. 4b(a+1) <= 4b^2 + (a+1)^2 from (2b - (a+1))^2 >= 0.
            psatz = f"psatz {sort} 2"
            out.append(f"repeat split; {psatz}" if is_conjunction(g.goal) else psatz)
            if prods:
                out.append("; ".join([*prods, psatz]))
            if diffs:
                out.append("; ".join(diffs + [closer]))
                out.append("; ".join(diffs + sums + [closer]))
            if prods:
                out.append("; ".join(prods + [closer]))
                if diffs:
                    out.append("; ".join(prods + diffs + [closer]))
            for d, s in zip(diffs[:3], sums[:3]):
                out.append(f"{d}; {s}; {closer}")
            out.append("; ".join(singles + [closer]))
            if len(vs) >= 3:
                x, y, z = vs[:3]
                prods3 = [f"pose proof ({sq} {_scoped(f'{a} * {b} - {c}', sort)})" for a, b, c in ((x, y, z),)]
                out.append("; ".join(diffs + prods3 + [closer]))
        return out

    def _positivity_products(self, g: GoalShape, sort: str) -> list[str]:
        pos = [(h, t, strict) for h, t, strict in g.positivity() if g.sort_of_text(t) == sort][:4]
        out = []
        lemmas = {
            "R": ("Rmult_lt_0_compat", "Rmult_le_pos"),
            "Z": ("Z.mul_pos_pos", "Z.mul_nonneg_nonneg"),
        }
        strict_lemma, weak_lemma = lemmas[sort]
        for (h1, _, s1), (h2, _, s2) in itertools.combinations(pos, 2):
            if s1 and s2:
                out.append(f"pose proof ({strict_lemma} _ _ {h1} {h2})")
            elif not s1 and not s2:
                out.append(f"pose proof ({weak_lemma} _ _ {h1} {h2})")
        return out

    # ------------------------------------------------------------------ rewriting and simplification
    def definition_rewrites(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        defs = g.definitions()
        for h in defs:
            out.append(f"rewrite !{h.name}")
            out.append(f"rewrite ?{h.name} in *")
        if len(defs) > 1:
            out.append(REWRITE_DEFS)
        return out

    def instantiations(self, g: GoalShape) -> list[str]:
        """A universally quantified fact over one number, stated at small points: `forall x, f (x + 3)
        = ...` or `forall x, x - 3 <> 0 -> ... = A / (x - 3) + ...` says nothing to lra/nra until it
        is instantiated (a human evaluates it at 0, 1, -1...). Side conditions are discharged by
        lra/lia, and a point where one fails is skipped (`try`). Defining equations `f x = e` are left
        to rewriting."""
        out: list[str] = []
        for h in g.props:
            t = " ".join(h.type.split())
            if not t.startswith("forall "):
                continue
            head, sep, body = t[len("forall ") :].partition(",")
            bound = binders(head) if sep and head.count("(") == head.count(")") else None
            if not bound or len(bound) != 1 or bound[0][1] not in POINTS:
                continue
            var, sort = bound[0]
            *premises, conclusion = split_top(body.strip(), " -> ")
            if re.search(r"\b(?:forall|exists)\b", conclusion) or (not premises and _defines(conclusion, var)):
                continue
            side = "".join(f" ltac:(repeat split; {SIDE_SOLVER[sort]})" for _ in premises)
            out.append("; ".join(f"try pose proof ({h.name} {p}{side})" for p in POINTS[sort]))
        return out

    def simplifications(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        sort = g.goal_sort if not is_conjunction(g.goal) else None
        side = self._nonzero(g)
        if sort == "R" and ("/" in g.goal or "/ " in g.goal or "Rinv" in g.goal):
            if len(split_top(g.goal, " = ")) == 2:
                # Lean's `field_simp`: the equation times its divisors, side conditions from the context
                out.append(f"field_simplify_eq; try solve [ repeat split; solve [ {side} ] ]")
            out += ["field_simplify", "field_simplify; try lra", "field_simplify; try nra"]
        if sort in ("R", "Z", "nat") and re.search(r"[*+^-]", g.goal) and (" = " in g.goal or "<" in g.goal):
            out.append("ring_simplify")
        for h in g.props:
            if "/" in h.type and g.sort_of_text(h.type) == "R" and not h.type.startswith("forall"):
                out += self.clear_denominators(g, h)
                if len(split_top(" ".join(h.type.split()), " = ")) == 2:
                    out.append(f"field_simplify_eq in {h.name}; try solve [ repeat split; solve [ {side} ] ]")
                out.append(f"field_simplify in {h.name}")
        return out

    @staticmethod
    def _nonzero(g: GoalShape, skip: str | None = None) -> str:
        """Alternatives proving `d <> 0` from the context: a disequality `hd : x <> 3` gives
        `x - 3 <> 0` by `intro; apply hd; lra`, a positivity fact by `intro; lra`."""
        diseqs = [p.name for p in g.props if "<>" in p.type and p.name != skip]
        return " | ".join(["assumption", "lra", "intro; lra", *(f"intro; apply {n}; lra" for n in diseqs), "nra"])

    def clear_denominators(self, g: GoalShape, h: Hyp) -> list[str]:
        """Lean's `field_simp at h` for an equation `h` over R: multiply both sides by the product of
        its divisors, simplify, and discharge each `d <> 0` side condition from the context (a
        disequality `hd : x <> 3` by `intro; apply hd; lra`, a positivity fact by `intro; lra`)."""
        t = " ".join(h.type.split())
        if len(split_top(t, " = ")) != 2 or "->" in t:
            return []
        ds = denominators(t)[:3]
        if not ds:
            return []
        product = " * ".join(_paren(d) for d in ds)
        product = product[1:-1] if len(ds) == 1 and product.startswith("(") else product
        side = self._nonzero(g, skip=h.name)
        return [
            f"apply (f_equal (fun t => t * ({product}))) in {h.name}; "
            f"field_simplify in {h.name}; [ | solve [ {side} ] .. ]"
        ]

    def parity(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        text = g.text()
        for sort, bound, divmod, evenodd in (
            ("Z", "Z.mod_pos_bound", "Z.div_mod", "Z.Even_or_Odd"),
            ("nat", "Nat.mod_upper_bound", "Nat.div_mod", "Nat.Even_or_Odd"),
        ):
            for a, m in _mod_calls(text):
                if g.sort_of_text(a) != sort:
                    continue
                out.append(f"pose proof ({bound} {a} {m} ltac:(lia))")
                out.append(f"pose proof ({divmod} {a} {m} ltac:(lia))")
            if re.search(r"\b(even|odd|Even|Odd)\b|\bmod 2\b", text):
                for v in g.vars_of(sort)[:2]:
                    out.append(f"destruct ({evenodd} {v}) as [[k Hk]|[k Hk]]; subst {v}")
        return out

    def unfoldings(self, g: GoalShape) -> list[str]:
        """The goal's constants unfolded, one at a time (`unfold dist_euc`, `unfold NewtonInt`): library
        proofs about a definition often start there, and the closers then see its body. A name that is
        not a definition (a variable, a constructor, an opaque lemma) fails at once."""
        bound = {n for m in _BINDER.finditer(g.goal) for n in re.findall(r"[\w']+", m.group(1))}
        skip = {n for h in g.hyps for n in h.names} | bound | set(SORTS) | _KEYWORDS
        names = [n for n in dict.fromkeys(_QUALIFIED.findall(g.goal)) if n not in skip and n.split(".")[-1] not in skip]
        return [f"unfold {n}" for n in names[:MAX_UNFOLD]]

    def inductions(self, g: GoalShape) -> list[str]:
        out: list[str] = []
        for n in g.vars_of("nat")[:2]:
            if n not in g.goal:
                continue
            out += [
                f"induction {n}",
                f"induction {n}; simpl; try lia",
                f"induction {n}; simpl in *; try nia",
            ]
        return out

    def intervals(self, g: GoalShape) -> list[str]:
        if g.goal_sort != "R" or not re.search(r"<|>|<=|>=", g.goal):
            return []
        bounded = {b.var for b in g.bounds() if b.upper} & {b.var for b in g.bounds() if not b.upper}
        out = []
        for x in g.vars_of("R"):
            if x in bounded and x in g.goal:
                out += [f"interval with (i_bisect {x})", f"interval with (i_bisect {x}, i_taylor {x})"]
        return out

    # ------------------------------------------------------------------ retrieved premises
    def premise_steps(self, premises: Sequence[str], existential: bool = False) -> list[str]:
        """The top-k retrieved premises together, as CoqHammer's reconstruction uses the premises its
        selection picked (`hauto use: ...`, and `eauto using ...`), then each alone. An existential goal
        (`ex_series a` is `exists l, is_series a l`) gets its witness from the lemma that proves the
        body: `eexists; eapply L`, the lemma's other premises left as goals."""
        names = list(dict.fromkeys(n for n in (premise_name(p) for p in premises) if n))[: self.num_premises]
        if not names:
            return []
        together = ", ".join(names)
        out = [f"hauto use: {together}", f"eauto using {together}"]
        if existential:
            out += [f"eexists; eapply {name}" for name in names]
        for name in names:
            out += [f"apply {name}", f"rewrite {name}", f"eapply {name}", f"rewrite <- {name}"]
        out += [f"pose proof {name} as HL" for name in names]
        return out


# Closers appended to a split (`S; lra`): one sentence that finishes every branch is far cheaper
# than a search node per branch (each node runs every closer of `auto`).
CLOSERS = {"R": ("lra", "nra"), "Z": ("lia", "nia"), "nat": ("lia", "nia")}

# Qualified names: Znat is loaded with the automation imports (Lia) but not imported.
NAT_TO_Z_COMPUTE = (
    "apply Znat.Nat2Z.inj; repeat match goal with "
    + " ".join(
        f"| |- context [BinInt.Z.of_nat ({op} ?a ?b)] => rewrite (Znat.Nat2Z.inj_{name} a b)"
        for op, name in (
            ("Nat.modulo", "mod"),
            ("Nat.div", "div"),
            ("Nat.pow", "pow"),
            ("Nat.add", "add"),
            ("Nat.mul", "mul"),
        )
    )
    + " end; vm_compute; reflexivity"
)

# Where a universally quantified fact is instantiated (`instantiations`), and what proves its side
# conditions there.
POINTS = {
    "R": ("0%R", "1%R", "(-1)%R", "2%R", "(-2)%R"),  # scoped: the file may not open R_scope
    "Z": ("0%Z", "1%Z", "(-1)%Z", "2%Z", "(-2)%Z"),
    "nat": ("0%nat", "1%nat", "2%nat", "3%nat"),
}
SIDE_SOLVER = {"R": "lra", "Z": "lia", "nat": "lia"}


def _defines(equation: str, var: str) -> bool:
    """`f x = e` (or `f x y = e`) for the bound `var`: a definition, used by rewriting."""
    lhs = split_top(equation, " = ")[0].strip()
    return re.fullmatch(rf"[A-Za-z_][\w'.]*(?: [\w']+)* {re.escape(var)}(?: [\w']+)*", lhs) is not None


def _finished(steps: list[str], closers: Sequence[str]) -> list[str]:
    """Each step followed by each closer (`S; lra`, `S; nra`, `T; lra`...), then the bare steps."""
    finished = [f"{s}; {c}" for s in steps for c in closers]
    return finished + list(steps)  # finishing variants first: a bare split makes a node to expand


def is_conjunction(goal: str) -> bool:
    """`A /\\ B`, `A <-> B`, or a chain `a <= x < b` (a conjunction in Coq), at top level."""
    if len(split_top(goal, "/\\")) > 1 or len(split_top(goal, " <-> ")) > 1:
        return True
    return len(re.findall(r" (?:<=|<|>=|>) ", strip_parens(goal))) >= 2


def is_existential(goal: str) -> bool:
    """`exists x, P`, a `{x | P}` sig type, or a predicate named the way Coquelicot names its
    existentials (`ex_series a`, `ex_lim_seq u`, `ex_derive f x`: `exists l, is_... l`)."""
    g = strip_parens(goal.strip())
    return g.startswith("exists ") or (g.startswith("{") and "|" in g) or re.match(r"ex_\w+ ", g) is not None


def _nested_or(n: int) -> str:
    """Intro pattern for `A1 \\/ A2 \\/ ... \\/ An` (right-nested): `[Hcase|[Hcase|Hcase]]`."""
    pat = "Hcase"
    for _ in range(n - 1):
        pat = f"[Hcase|{pat}]"
    return pat


def _mod_calls(text: str) -> list[tuple[str, str]]:
    """(a, m) for `a mod m` and `Z.modulo a m` / `Nat.modulo a m` with a numeric `m`."""
    out: list[tuple[str, str]] = []
    for m in re.finditer(r"([A-Za-z_][\w']*|\([^()]*\)) mod (\d+)", text):
        if (m.group(1), m.group(2)) not in out:
            out.append((m.group(1), m.group(2)))
    return out


def from_spec(arg: str) -> ActionGenerator:
    """`actions` or `actions:K` (K retrieved premises turned into candidates, default 8)."""
    return ActionGenerator(int(arg) if arg else DEFAULT_PREMISES)
