"""Mutating one theorem through a live `CoqEnvironment`.

After `intros.` (the statement's binders and hypotheses become named hypotheses), every candidate
the index proposes is run as a tactic on that state; the new statement is read back from the
state Coq returns and the mutant's proof is the original proof behind a bridge:

- rewrite the goal (`rewrite [<-] L`, new goal G'):
  `assert (Hmut_old : <original type>). { <original proof> } intros xs.
   specialize (Hmut_old xs). rewrite [<-] L in Hmut_old; first [exact Hmut_old | assumption].`
- rewrite hypothesis H (`rewrite [<-] L in H`, H : P becomes P'):
  `… intros xs. assert (Hmut_h : P) by (rewrite [<-] L; first [exact H | assumption]).
   exact (Hmut_old xs[H := Hmut_h]).`
- apply forward on the goal (`apply L in Hmut_old`, a premise of L matches the goal G; the new goal
  is L's conclusion): as for a goal rewrite, with `apply L in Hmut_old`.
- apply backward on hypothesis H : B (`apply L` on a goal B; L's premises A1…An replace H):
  `… intros xs. assert (Hmut_h : B) by (apply L; assumption). exact (Hmut_old xs[H := Hmut_h]).`
Side conditions a rewrite or apply leaves (a conditional equation's premise) become extra
hypotheses of the mutant. Each mutant is then started as a theorem of its own in the same context
(its printed statement is the deduplication key) and its proof is run there; only the batch
re-check in `mutation.verify` makes it count.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from proofsmith.envs.base import EnvError, Goal, ProofFinished, TacticError, TacticState, TheoremRef
from proofsmith.envs.coq.env import CoqEnvironment
from proofsmith.envs.coq.source import TheoremSource, locate
from proofsmith.mutation import terms as T
from proofsmith.mutation.index import Rule, RuleIndex
from proofsmith.mutation.statement import (
    Hyp,
    StatementParts,
    build_type,
    hypotheses,
    mutant_statement,
    normal_form,
    split_statement,
)

KINDS = ("rw", "apply")
OLD = "Hmut_old"
AUX = "Hmut_h"
SIDE = "Hmut_s"
PROBE = "Hmut_g"
_EVAR = re.compile(r"\?[A-Za-z_]")


@dataclass
class Target:
    """A traced theorem to mutate, with what is needed to load it again."""

    full_name: str
    file_path: str  # dataset path of its file
    source_file: str  # the .v file it was traced from
    load_paths: tuple[tuple[str, str], ...]
    start_line: int
    library: str
    pa_type: str | None = None  # its type printed with Printing All (from the index session)
    coq_flags: tuple[str, ...] = ()  # what its file was traced with (HoTT: -noinit -indices-matter)


@dataclass
class Mutant:
    name: str
    original: str  # full name of the mutated theorem
    kind: str  # "rw" | "apply"
    rule: str  # "rw" | "rw_rev" | "fwd" | "bwd"
    lemma: str
    location: str  # "goal" or the hypothesis name
    tactic: str
    statement: str  # `Lemma name binders : type.`
    proof: list[str]
    key: str = ""
    status: str = "built"  # built → duplicate | live_failed | live_ok → verified | rejected
    reason: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Mutant:
        return cls(**d)


@dataclass
class Counters:
    targets: int = 0
    targets_skipped: int = 0
    candidates_proposed: int = 0
    invocable: int = 0
    mutants: int = 0
    duplicates: int = 0
    live_ok: int = 0
    live_failed: int = 0
    by_rule: dict = field(default_factory=dict)  # rule → [proposed, invocable]

    def note(self, rule: str, invocable: bool) -> None:
        row = self.by_rule.setdefault(rule, [0, 0])
        row[0] += 1
        row[1] += int(invocable)

    def merge(self, other: dict) -> None:
        for k, v in other.items():
            if k == "by_rule":
                for r, (a, b) in v.items():
                    row = self.by_rule.setdefault(r, [0, 0])
                    row[0] += a
                    row[1] += b
            elif k == "skipped_reasons":
                continue
            else:
                setattr(self, k, getattr(self, k) + v)


@dataclass
class MutateOptions:
    kinds: tuple[str, ...] = KINDS
    max_candidates: int = 400  # tactic attempts per target, most specific patterns first
    max_mutants: int = 200  # built mutants per target
    tactic_timeout: float = 3.0
    check_timeout: float = 20.0


def _tactic(rule: Rule, name: str, where: str | None) -> str:
    arrow = "<- " if rule.kind == "rw_rev" else ""
    if rule.kind in ("rw", "rw_rev"):
        return f"rewrite {arrow}{name}" + (f" in {where}" if where else "") + "."
    if rule.kind == "fwd":
        return f"apply {name} in {PROBE}."
    return f"apply {name}."


def _size(t: T.Term, variables: frozenset[str]) -> int:
    """Non-hole nodes of a pattern: the more, the more specific (and the likelier to fire)."""
    return sum(1 for s in T.subterms(t) if isinstance(s, T.Const) and s.name not in variables)


class TargetMutator:
    """Mutates the targets of one file through one environment."""

    def __init__(
        self,
        env: CoqEnvironment,
        index: RuleIndex,
        lemma_names: dict[str, str],
        options: MutateOptions,
        taken_names: set[str],
        counters: Counters,
    ):
        self.env = env
        self.index = index
        self.lemma_names = lemma_names  # full name → the name to write in a tactic here
        self.opts = options
        self.taken = taken_names
        self.c = counters
        self.seen_keys: set[str] = set()
        self.target_keys: dict[str, str] = {}  # full name → normal form of its statement
        # the Coq flags the last target started with (`TheoremSource.coq_flags`: its traced flags, else its
        # library's); its mutants are live-checked with them, and batch-verified with them (`verify_mutants`)
        self.coq_flags: tuple[str, ...] | None = None

    # ------------------------------------------------------------------ helpers
    def _fresh(self, base: str) -> str:
        k = 1
        while f"{base}_mut{k}" in self.taken:
            k += 1
        name = f"{base}_mut{k}"
        self.taken.add(name)
        return name

    def _run(self, state: TacticState, tactic: str):
        try:
            return self.env.run_tactic(state, tactic, timeout=self.opts.tactic_timeout)
        except EnvError as e:
            return TacticError(str(e))

    # ------------------------------------------------------------------ one target
    def load(self, target: Target) -> tuple[TheoremRef, TheoremSource, StatementParts, list[str]] | None:
        ref = TheoremRef.from_file(
            target.source_file,
            target.full_name.rsplit(".", 1)[-1],
            load_paths=target.load_paths,
            coq_flags=target.coq_flags,
        )
        source = locate(ref)
        self.coq_flags = source.coq_flags
        line = source.text[: source.statement.start].count("\n") + 1
        if line != target.start_line:
            return None  # another theorem of the same short name comes first in the file
        parts = split_statement(source.statement.text)
        proof, end = source.proof()
        if parts is None or not proof or end not in ("Qed.", "Defined."):
            return None
        return ref, source, parts, proof

    def mutate(self, target: Target) -> list[Mutant]:
        self.c.targets += 1
        loaded = self.load(target)
        if loaded is None:
            self.c.targets_skipped += 1
            return []
        ref, source, parts, proof = loaded
        try:
            s0 = self.env.start(ref)
        except EnvError:
            self.c.targets_skipped += 1
            return []
        if s0.num_goals != 1:
            self.c.targets_skipped += 1
            return []
        self.target_keys[target.full_name] = normal_form(s0.pp)
        self.seen_keys.add(self.target_keys[target.full_name])
        s1 = self._run(s0, "intros.")
        if not isinstance(s1, TacticState) or s1.num_goals != 1:
            self.c.targets_skipped += 1
            return []
        before = {h.name for h in hypotheses(s0.goals[0])}
        new = [h for h in hypotheses(s1.goals[0]) if h.name not in before]
        if any(h.is_let for h in new):
            self.c.targets_skipped += 1
            return []
        goal_term, hyp_terms = self._align(target.pa_type, new)
        attempts = self._candidates(goal_term, hyp_terms, target)
        out: list[Mutant] = []
        probe: TacticState | None = None
        for rule, where in attempts[: self.opts.max_candidates]:
            if len(out) >= self.opts.max_mutants:
                break
            lemma = self.lemma_names.get(rule.lemma, rule.lemma)
            if rule.kind == "bwd":
                hyp = next(h for h in new if h.name == where)
                tactic = f"assert ({AUX} : {hyp.type}); [apply {lemma}|]."
                state = s1
            elif rule.kind == "fwd":
                if probe is None:
                    p = self._run(s1, f"cut ({s1.goals[0].conclusion}); [intro {PROBE}|].")
                    probe = p if isinstance(p, TacticState) else None
                    if probe is None:
                        continue
                tactic = _tactic(rule, lemma, where)
                state = probe
            else:
                tactic = _tactic(rule, lemma, where)
                state = s1
            self.c.candidates_proposed += 1
            result = self._run(state, tactic)
            built = None
            if isinstance(result, TacticState):
                built = self._build(target, parts, proof, s1, new, rule, lemma, where, tactic, result)
            self.c.note(rule.kind, built is not None)
            if built is not None:
                self.c.invocable += 1
                self.c.mutants += 1
                out.append(built)
        for m in out:
            self._check(m, source, target)
        return out

    def _align(self, pa_type: str | None, new: list[Hyp]) -> tuple[T.Term | None, dict[str, T.Term]]:
        """Pair the hypotheses `intros` made with the binders of the Printing All type: the goal's
        term, and each hypothesis' term (by name). Unpaired places get no candidates."""
        if pa_type is None:
            return None, {}
        try:
            binders, concl = T.telescope(T.parse(pa_type))
        except T.ParseError:
            return None, {}

        def agrees(b: str, h: str) -> bool:
            return (
                b == h
                or (b == "_" and h.startswith("H"))
                or (b != "_" and re.fullmatch(re.escape(b) + r"\d*", h) is not None)
            )

        for o in range(len(binders) + 1):
            tail = binders[o:]
            if len(tail) > len(new):
                continue
            if all(agrees(b, h.name) for (b, _), h in zip(tail, new)):
                hyps = {h.name: ty for (_, ty), h in zip(tail, new)}
                return (concl if len(tail) == len(new) else None), hyps
        return None, {}

    def _candidates(
        self, goal: T.Term | None, hyps: dict[str, T.Term], target: Target
    ) -> list[tuple[Rule, str | None]]:
        allowed = set(self.lemma_names)
        found: list[tuple[int, Rule, str | None]] = []
        if goal is not None:
            if "rw" in self.opts.kinds:
                found += [(_size(r.pattern, r.variables), r, None) for r in self.index.rewrites(goal, allowed)]
            if "apply" in self.opts.kinds:
                found += [(_size(r.pattern, r.variables), r, None) for r in self.index.applies("fwd", goal, allowed)]
        for name, term in hyps.items():
            if "rw" in self.opts.kinds:
                found += [(_size(r.pattern, r.variables), r, name) for r in self.index.rewrites(term, allowed)]
            if "apply" in self.opts.kinds:
                found += [(_size(r.pattern, r.variables), r, name) for r in self.index.applies("bwd", term, allowed)]
        found = [f for f in found if f[1].lemma != target.full_name]
        found.sort(key=lambda f: -f[0])
        seen, out = set(), []
        for _, r, w in found:
            if (r.lemma, r.kind, w) not in seen:
                seen.add((r.lemma, r.kind, w))
                out.append((r, w))
        return out

    # ------------------------------------------------------------------ building a mutant
    def _build(
        self,
        target: Target,
        parts: StatementParts,
        proof: list[str],
        s1: TacticState,
        new: list[Hyp],
        rule: Rule,
        lemma: str,
        where: str | None,
        tactic: str,
        result: TacticState,
    ) -> Mutant | None:
        goals = list(result.goals)
        if not goals or any(_EVAR.search(g.pp) for g in goals):
            return None
        base_hyps = list(s1.goals[0].hypotheses)
        names = [h.name for h in new]
        conclusion = s1.goals[0].conclusion
        binders = [(h.name, h.type) for h in new]
        sides: list[Goal]
        if rule.kind in ("rw", "rw_rev") and where is None:
            main, sides = goals[0], goals[1:]
            if main.hypotheses != tuple(base_hyps) or main.conclusion == conclusion:
                return None
            conclusion = main.conclusion
        elif rule.kind in ("rw", "rw_rev"):
            main, sides = goals[0], goals[1:]
            changed = {h.name: h for h in hypotheses(main)}
            if where not in changed or main.conclusion != conclusion:
                return None
            old = next(h for h in new if h.name == where)
            if changed[where].type == old.type:
                return None
            binders = [(n, changed[where].type if n == where else t) for n, t in binders]
        elif rule.kind == "fwd":
            main, sides = goals[0], goals[1:-1]
            hs = {h.name: h for h in hypotheses(main)}
            if PROBE not in hs or len(goals) < 2:
                return None
            conclusion = hs[PROBE].type
            if conclusion == s1.goals[0].conclusion:
                return None
        else:  # bwd: the premises of L (goals[:-1]) replace the hypothesis
            premises = goals[:-1]
            if not premises or any(g.hypotheses != tuple(base_hyps) for g in premises):
                return None
            binders = [(n, premises[0].conclusion if n == where else t) for n, t in binders]
            sides = []
            extra = [g.conclusion for g in premises[1:]]
            binders += [(f"{SIDE}{i + 1}", c) for i, c in enumerate(extra)]
        if rule.kind != "bwd":
            for g in sides:
                if g.hypotheses != tuple(base_hyps) and rule.kind != "fwd":
                    return None
            binders += [(f"{SIDE}{i + 1}", g.conclusion) for i, g in enumerate(sides)]
        type_text = build_type(binders, conclusion)
        name = self._fresh(target.full_name.rsplit(".", 1)[-1])
        statement = mutant_statement(name, parts, type_text)
        bridge = self._bridge(parts, proof, rule, lemma, where, names, [n for n, _ in binders], new)
        return Mutant(
            name,
            target.full_name,
            "rw" if rule.kind.startswith("rw") else "apply",
            rule.kind,
            rule.lemma,
            where or "goal",
            tactic,
            statement,
            bridge,
        )

    def _bridge(
        self,
        parts: StatementParts,
        proof: list[str],
        rule: Rule,
        lemma: str,
        where: str | None,
        names: list[str],
        all_names: list[str],
        new: list[Hyp],
    ) -> list[str]:
        steps = [f"assert ({OLD} : {parts.type}).", "{", *proof, "}"]
        if all_names:
            steps.append(f"intros {' '.join(all_names)}.")
        args = " ".join(names)
        arrow = "<- " if rule.kind == "rw_rev" else ""
        if where is None:
            if names:
                steps.append(f"specialize ({OLD} {args}).")
            use = f"rewrite {arrow}{lemma} in {OLD}" if rule.kind.startswith("rw") else f"apply {lemma} in {OLD}"
            steps.append(f"{use}; first [exact {OLD} | assumption].")
            return steps
        old_type = next(h.type for h in new if h.name == where)
        if rule.kind.startswith("rw"):
            steps.append(
                f"assert ({AUX} : {old_type}) by (rewrite {arrow}{lemma}; first [exact {where} | assumption])."
            )
        else:
            steps.append(f"assert ({AUX} : {old_type}) by (apply {lemma}; assumption).")
        call = " ".join(AUX if n == where else n for n in names)
        steps.append(f"exact ({OLD} {call}).")
        return steps

    # ------------------------------------------------------------------ dedupe + live check
    def _check(self, m: Mutant, source: TheoremSource, target: Target) -> None:
        ref = TheoremRef.from_statement(
            m.statement, m.name, header=source.prefix_text, load_paths=target.load_paths, coq_flags=source.coq_flags
        )
        try:
            state = self.env.start(ref)
        except EnvError as e:
            m.status, m.reason = "live_failed", f"statement: {str(e)[:300]}"
            self.c.live_failed += 1
            return
        m.key = normal_form(state.pp)
        if m.key in self.seen_keys:
            m.status, m.reason = "duplicate", "same statement as an earlier theorem or mutant"
            self.c.duplicates += 1
            return
        self.seen_keys.add(m.key)
        try:
            result = self.env.run_tactic(state, "\n".join(m.proof), timeout=self.opts.check_timeout, script=True)
        except EnvError as e:
            result = TacticError(str(e))
        if isinstance(result, ProofFinished):
            m.status = "live_ok"
            self.c.live_ok += 1
        else:
            m.status = "live_failed"
            m.reason = (getattr(result, "message", None) or type(result).__name__)[:300]
            self.c.live_failed += 1
