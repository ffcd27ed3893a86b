"""`CoqEnvironment`: the `Environment` protocol over one coqidetop session.

Coq keeps one linear document. Every proof state we hand out is a node in a tree; a node knows the
sentences that lead to it. To run a tactic on any node we cut the live document back to the
longest common prefix (`Edit_at`, sub-millisecond) and re-add the missing sentences, so any earlier
state can be used again (true backtracking), and a restarted process simply replays lazily.

Limits (see `envs/limits.py`): a tactic call is bounded by one deadline, `tactic_timeout` seconds
from when the tactic is sent, that covers everything Coq does for it: the tactic itself, the goal
query, the `Qed` kernel check of a finished proof and the cleanup of the document. At the deadline
coqidetop is interrupted (SIGINT); if it does not answer within `INTERRUPT_GRACE` its whole process
group is killed and replaced. So `run_tactic` returns (a `TacticError` saying "Timeout!") or raises
(`EnvTimeoutError`, the process having been replaced) within `tactic_timeout + LIMIT_SLACK`, plus
the time to rebuild the state first when the live document is elsewhere (bounded by
`start_timeout`, like loading the theorem).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.base import (
    CIRCULAR,
    CircularProof,
    EnvCrashError,
    EnvError,
    EnvironmentBase,
    EnvStartError,
    EnvTimeoutError,
    Goal,
    ProofFinished,
    ProofGivenUp,
    TacticError,
    TacticRefused,
    TacticResult,
    TacticState,
    TheoremRef,
    Verdict,
)
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.circularity import circular_dependency
from proofsmith.envs.coq.libraries import library_name
from proofsmith.envs.coq.sentences import Sentence
from proofsmith.envs.coq.session import INTERRUPT_GRACE, CoqIdeSession, CoqSessionConfig
from proofsmith.envs.coq.source import StartFailure, TheoremSource, TheoremStartError, locate
from proofsmith.envs.coq.tactic_filter import MAX_TACTIC_CHARS, CheckedTactic, check_tactic
from proofsmith.envs.coq.verify import check_module, verify_theorem
from proofsmith.envs.limits import START_TIMEOUT, TACTIC_TIMEOUT, VERIFY_TIMEOUT
from proofsmith.envs.process import DEFAULT_MEMORY_LIMIT

log = logging.getLogger(__name__)

# Below this many seconds left of a tactic's deadline the live circularity check is skipped.
MIN_CHECK_SECONDS = 0.2

# Seconds allowed, past a call's deadline, for cutting the document back after a failure or an
# interrupt (`Edit_at` takes milliseconds; past this the process is killed and replaced).
CLEANUP_GRACE = 0.5


@dataclass(frozen=True)
class CoqConfig:
    """Options of `CoqEnvironment`; `CoqEnvironment(**overrides)` replaces fields by name."""

    tactic_timeout: float = TACTIC_TIMEOUT  # one tactic call, its Qed check included (see module doc)
    start_timeout: float = START_TIMEOUT  # loading a theorem's context (Requires) or replaying a path
    replay_timeout: float = 60.0  # `Timeout` for a tactic re-added to rebuild a state
    verify_timeout: float = VERIFY_TIMEOUT  # one `verify`: coqc re-check plus axiom audit
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT  # RLIMIT_AS of coqidetop
    recycle_rss: int = 2 * 1024**3  # restart (and lazily replay) once coqidetop's RSS exceeds this
    recycle_check_every: int = 64  # calls between RSS checks
    printing_width: int = 1000
    max_tactic_chars: int = MAX_TACTIC_CHARS
    allowed_axioms: tuple[str, ...] = ()  # full names allowed beyond Coq's standard library
    # Sentences put just before every theorem's statement, after its own context (the file up to it, or
    # its header), both live and in verify (LeanDojo's `additional_imports`), e.g.
    # ("From Coq Require Import Lia Lra Psatz.",) for automation tactics; see `TheoremSource.context`.
    additional_imports: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()


class _ReplayError(EnvError):
    """A sentence on the path to a state failed when re-added (`sentence`: which one, when known)."""

    def __init__(self, message: str, sentence: str | None = None, timed_out: bool = False):
        super().__init__(message)
        self.sentence = sentence
        self.timed_out = timed_out  # the replay hit its deadline


def _is_focus(sentence: str) -> bool:
    return Sentence(sentence, 0, 0).is_focus


@dataclass(frozen=True)
class _Node:
    parent: int | None
    sentences: tuple[str, ...]  # document sentences this node adds (tactics without their `Timeout`)
    steps: tuple[str, ...]  # the proof steps as the user gave them
    source: TheoremSource


SessionKey = tuple[tuple[tuple[str, str], ...], tuple[str, ...], str | None]


def session_key(source: TheoremSource) -> SessionKey:
    """What decides whether a theorem can reuse the live coqidetop: its load paths, its Coq flags, and,
    for a file of an installed library, that library file's logical name.

    Going back to the start of the document (`Edit_at`) does not undo everything a replayed library file
    left: after UniMath's `PartD.v` (which `Require`s the compiled `PartC`), replaying `PartC.v`'s own
    source in the same process no longer parses `assert (ee : e0 = x0) by apply (...)`, although a fresh
    process does. So theorems of different library files never share a process; a benchmark's files
    (outside every library) still do, and their common imports are loaded once.

    A library file's document is also named after the file (`-top functions`), as the re-check names it
    (`verify.check_module`): MathComp-Analysis' `functions.v` declares Hierarchy Builder structures
    whose generated names carry the module's short name, and does not replay under coqidetop's default
    `Top`. The short name and not the full one (`-topfile`, as the tracer does): an additional import
    may load the file's own compiled copy (`Require Import ZArith` while replaying `Coq.ZArith.Zdiv`),
    which Coq refuses under the same full name."""
    return source.load_paths, source.coq_flags, _library_of(source.file_path, source.load_paths)


@functools.lru_cache(maxsize=4096)
def _library_of(file_path: Path | None, load_paths: tuple[tuple[str, str], ...]) -> str | None:
    """The logical name of `file_path` when it belongs to an installed library, else None; cached, since
    every tactic call compares its theorem's session key with the live one."""
    try:
        return library_name(file_path, load_paths)
    except OSError:  # no coqc to ask where the stdlib is: starting the session says what to install
        return None


def _top_name_args(key: SessionKey) -> tuple[str, ...]:
    """coqidetop's arguments naming the document after the library file the session replays, if any."""
    library = key[2]
    return ("-top", check_module(library)) if library else ()


class CoqEnvironment(EnvironmentBase):
    """Live Coq 8.16 proof environment (coqidetop XML protocol)."""

    def __init__(self, config: CoqConfig | None = None, **overrides: object):
        self._session: CoqIdeSession | None = None
        self.config = _configure(config, overrides)
        self._session_key: SessionKey = ((), (), None)
        self._nodes: dict[int, _Node] = {}
        self._next_id = 0
        self._live: list[tuple[str, int]] = []  # (sentence, state id) of the live document
        self._live_node: int | None = None  # node whose path the live document is exactly
        self.calls = 0

    # ------------------------------------------------------------------ session plumbing
    def _ensure_session(self, source: TheoremSource) -> CoqIdeSession:
        """A coqidetop for `source`: its load paths and library flags (`TheoremSource.coq_flags`), and a
        fresh one for each file of an installed library (see `session_key`)."""
        key = session_key(source)
        if self._session is not None and self._session.alive and key == self._session_key:
            return self._session
        if self._session is not None:
            self._session.close()
        self._session_key = key
        self._session = CoqIdeSession(
            CoqSessionConfig(
                load_paths=source.load_paths,
                memory_limit=self.config.memory_limit,
                call_timeout=self.config.start_timeout,
                extra_args=source.coq_flags + _top_name_args(key) + tuple(self.config.extra_args),
            )
        )
        self._session.start()
        self._live, self._live_node = [], None
        return self._session

    def _respawn(self) -> None:
        """Replace the coqidetop process; nodes stay valid and are replayed on demand."""
        if self._session is not None:
            self._session.restart()
        self._live, self._live_node = [], None

    @property
    def session(self) -> CoqIdeSession:
        if self._session is None:
            raise EnvStartError("no theorem started yet")
        return self._session

    @property
    def restarts(self) -> int:
        return self._session.process.restarts if self._session else 0

    def _tip(self) -> int:
        return self._live[-1][1] if self._live else self.session.root_state

    def _cut(self, keep: int, deadline: float | None = None) -> None:
        """Cut the live document to its first `keep` sentences.

        With `deadline` (the deadline of the work being cleaned up, possibly past) the cut itself may
        take until `deadline + INTERRUPT_GRACE + CLEANUP_GRACE`; without, the session's default limit.
        """
        if keep >= len(self._live):
            return
        sid = self._live[keep - 1][1] if keep > 0 else self.session.root_state
        if deadline is None:
            reply = self.session.edit_at(sid)
        else:
            soft = max(deadline, time.monotonic()) + CLEANUP_GRACE / 2
            reply = self.session.edit_at(
                sid, deadline=soft, kill_at=max(soft, deadline + INTERRUPT_GRACE + CLEANUP_GRACE)
            )
        if not reply.good:
            raise EnvCrashError(f"Edit_at {sid} failed: {reply.fail_text}")
        del self._live[keep:]
        self._live_node = None

    def _path(self, node_id: int) -> list[tuple[str, str]]:
        """(sentence, text to send when replaying it) from the document's start to `node_id`.

        Tactics are replayed under a generous `Timeout`: the state was reached once, and a tactic that
        ran close to its budget must not make the state unreachable on a loaded machine.
        """
        chunks = []
        nid: int | None = node_id
        replay = f"Timeout {max(1, math.ceil(self.config.replay_timeout))} "
        while nid is not None:
            node = self._nodes[nid]
            if node.parent is None:
                chunks.append([(s, s) for s in node.sentences])
            else:
                chunks.append([(s, s if _is_focus(s) else replay + s) for s in node.sentences])
            nid = node.parent
        return [pair for chunk in reversed(chunks) for pair in chunk]

    def _goto(self, node_id: int, deadline: float) -> int:
        """Make the live document end exactly at `node_id`'s state; return Coq's tip state id.

        Everything (cut, re-adding the path, executing it) is bounded by `deadline`.
        """
        if self._live_node == node_id:
            return self._tip()
        target = self._path(node_id)
        k = 0
        for (have, _), (want, _) in zip(self._live, target):
            if have is not want and have != want:
                break
            k += 1
        self._cut(k, deadline)
        if k < len(target):
            tip = self._tip()
            for sentence, text in target[k:]:
                reply = self.session.add(text, tip, deadline=deadline)
                if not reply.good:
                    timed_out = self.session.interrupted
                    self._cut(k, deadline)
                    raise _ReplayError(f"{sentence[:80]!r} failed: {reply.fail_text}", sentence, timed_out)
                tip = xp.decode_add(reply.value)
                self._live.append((sentence, tip))
            reply = self.session.goal(deadline=deadline)
            if not reply.good:
                if self.session.interrupted:
                    log.info("rebuilding state %d exceeded its limit; cut back", node_id)
                    self._cut(k, deadline)
                    raise _ReplayError(reply.fail_text, timed_out=True)
                bad = reply.error_messages()[0].state_id if reply.error_messages() else None
                where = next((s for s, sid in self._live if sid == bad), None)
                self._cut_to_state(reply.fail_state, deadline)
                raise _ReplayError(f"{reply.fail_text}" + (f" (in: {where[:120]!r})" if where else ""), where)
        self._live_node = node_id
        return self._tip()

    def _cut_to_state(self, sid: int | None, deadline: float | None = None) -> None:
        keep = 0
        for i, (_, s) in enumerate(self._live):
            if s == sid:
                keep = i + 1
                break
        self._cut(keep, deadline)

    def _new_node(
        self, parent: int | None, sentences: tuple[str, ...], steps: tuple[str, ...], source: TheoremSource
    ) -> int:
        nid = self._next_id
        self._next_id += 1
        self._nodes[nid] = _Node(parent, sentences, steps, source)
        return nid

    def _maybe_recycle(self) -> None:
        if (
            self._session is not None
            and self.calls % self.config.recycle_check_every == 0
            and self._session.rss_bytes() > self.config.recycle_rss
        ):
            self._respawn()

    # ------------------------------------------------------------------ protocol
    def start(self, theorem: TheoremRef) -> TacticState:
        source = locate(theorem)
        self._ensure_session(source)
        root = (
            (f"Set Printing Width {self.config.printing_width}.",)
            + source.context(self.config.additional_imports)  # the imports after the file's own prefix
            + (source.statement.text, "Proof.")
        )
        nid = self._new_node(None, root, (), source)
        deadline = time.monotonic() + self.config.start_timeout
        try:
            self._goto(nid, deadline)
            reply = self.session.goal(deadline=deadline)
        except EnvCrashError as e:  # the process died (killed, OOM): not the theorem's fault
            self._respawn()
            del self._nodes[nid]
            raise EnvCrashError(f"coqidetop died while loading {theorem.name}: {e}", e.is_out_of_memory) from e
        except EnvTimeoutError as e:
            self._respawn()
            del self._nodes[nid]
            raise TheoremStartError(f"coqidetop failed while loading {theorem.name}: {e}", StartFailure.TIMEOUT) from e
        except _ReplayError as e:
            del self._nodes[nid]
            own = e.sentence is not None and e.sentence in (source.statement.text, "Proof.")
            if e.timed_out:
                reason = StartFailure.TIMEOUT
            elif own:
                reason = StartFailure.STATEMENT_FAILED
            else:
                reason = StartFailure.CONTEXT_FAILED
            raise TheoremStartError(f"{theorem.name}: {e}", reason) from e
        goals = xp.decode_goals(reply.value) if reply.good else None
        if goals is None:
            del self._nodes[nid]
            raise TheoremStartError(f"{theorem.name}: no proof is open after its statement", StartFailure.NO_PROOF_OPEN)
        return self._state(nid, goals)

    def run_tactic(
        self, state: TacticState, tactic: str, timeout: float | None = None, *, script: bool = False
    ) -> TacticResult:
        """Run one tactic (bullets/braces allowed around it) on any earlier state.

        `script=True` accepts several tactic sentences as one step (vernacular is still refused).
        """
        if state.id not in self._nodes:
            raise ValueError(f"unknown state id {state.id}: states come from this environment's start/run_tactic")
        checked = check_tactic(tactic, script=script, max_chars=self.config.max_tactic_chars)
        if not isinstance(checked, CheckedTactic):
            return TacticRefused(f"refused: {checked.reason}")
        self.calls += 1
        tactic_timeout = self.config.tactic_timeout if timeout is None else timeout
        try:
            return self._run(state.id, checked, tactic_timeout)
        except _ReplayError as e:  # the state could not be rebuilt (e.g. a tactic on its path timed out now)
            return TacticError(f"cannot rebuild state {state.id}: {e}")
        except EnvTimeoutError:
            log.warning(
                "tactic %r exceeded its %.1fs limit; coqidetop was killed, respawning", tactic[:80], tactic_timeout
            )
            self._respawn()
            raise
        except EnvCrashError:
            self._respawn()
            raise
        finally:
            self._maybe_recycle()

    def _run(self, node_id: int, checked: CheckedTactic, tactic_timeout: float) -> TacticResult:
        source = self._nodes[node_id].source
        if self._session is not None and session_key(source) != self._session_key:
            self._ensure_session(source)  # a state of a theorem started earlier
        session = self.session
        tip = self._goto(node_id, time.monotonic() + self.config.start_timeout)  # rebuilding: start_timeout
        # One deadline for everything Coq does for this tactic: Add, Goal, Qed, and the cleanup.
        deadline = time.monotonic() + tactic_timeout
        bounds = {"deadline": deadline, "kill_at": deadline + INTERRUPT_GRACE}
        secs = max(1, math.ceil(tactic_timeout))
        wrapped = [s.text if s.is_focus else f"Timeout {secs} {s.text}" for s in checked.sentences]
        base = len(self._live)
        self._live_node = None
        for sentence, text in zip(checked.sentences, wrapped):
            reply = session.add(text, tip, **bounds)
            if not reply.good:  # a syntax error: no state was created
                self._cut(base, deadline)
                self._live_node = node_id
                return TacticError(reply.fail_text, _char_range(sentence, text, reply.fail_loc))
            tip = xp.decode_add(reply.value)
            self._live.append((sentence.text, tip))
        reply = session.goal(**bounds)
        if not reply.good:
            if session.interrupted:
                log.info(
                    "tactic exceeded its %.1fs limit; coqidetop pid %s interrupted", tactic_timeout, session.process.pid
                )
                self._cut(base, deadline)
                self._live_node = node_id
                return TacticError(f"Timeout! the tactic did not finish within {tactic_timeout:.1f}s")
            errors = reply.error_messages()
            failing = errors[0].state_id if errors else None
            loc = errors[0].loc if errors and errors[0].loc else reply.fail_loc
            message = errors[0].text.strip() if errors else reply.fail_text
            added = self._live[base:]
            self._cut(base, deadline)
            self._live_node = node_id
            for sentence, text, (_, sid) in zip(checked.sentences, wrapped, added):
                if sid == failing:
                    return TacticError(message, _char_range(sentence, text, loc))
            return TacticError(message)
        goals = xp.decode_goals(reply.value)
        node = self._nodes[node_id]
        steps = (" ".join(s.text for s in checked.sentences),)
        if goals is None:
            self._cut(base, deadline)
            self._live_node = node_id
            return TacticError("the tactic closed the proof mode unexpectedly")
        canonical = tuple(x.text for x in checked.sentences)
        if goals.complete:
            return self._finish(node_id, node, canonical, steps, base, deadline, tactic_timeout)
        if goals.given_up and not (goals.foreground or goals.background or goals.shelved):
            self._cut(base, deadline)
            self._live_node = node_id
            return ProofGivenUp("all goals closed, but some were given up (admit/give_up)")
        nid = self._new_node(node_id, canonical, steps, node.source)
        self._live_node = nid
        return self._state(nid, goals)

    def _finish(
        self,
        node_id: int,
        node: _Node,
        sentences: tuple[str, ...],
        steps: tuple[str, ...],
        base: int,
        deadline: float,
        tactic_timeout: float,
    ) -> TacticResult:
        """`Qed` the finished proof (the kernel re-checks the whole term) within the tactic's deadline."""
        session = self.session
        bounds = {"deadline": deadline, "kill_at": deadline + INTERRUPT_GRACE}
        reply = session.add("Qed.", self._tip(), **bounds)
        if reply.good:
            self._live.append(("Qed.", xp.decode_add(reply.value)))
            reply = session.status(**bounds)
        if not reply.good:
            if session.interrupted:
                log.info(
                    "Qed check exceeded the tactic's %.1fs limit; coqidetop pid %s interrupted",
                    tactic_timeout,
                    session.process.pid,
                )
                self._cut(base, deadline)
                self._live_node = node_id
                return TacticError(
                    f"Timeout! no goals left, but the Qed check did not finish within {tactic_timeout:.1f}s"
                )
            message = reply.error_messages()[0].text.strip() if reply.error_messages() else reply.fail_text
            if "unfocused" in message:
                # a brace is still open around a finished subproof: not done, but not an error either
                self._cut(len(self._live) - 1 if self._live[-1][0] == "Qed." else len(self._live), deadline)
                nid = self._new_node(node_id, sentences, steps, node.source)
                self._live_node = nid
                header = "(this subproof is complete; close the focused block with '}')"
                return TacticState(pp=header, id=nid, goals=())
            self._cut(base, deadline)
            self._live_node = node_id
            return TacticError(f"no goals left, but Qed rejected the proof: {message}")
        circular = self._circular(node.source, deadline)
        if circular is not None:
            self._cut(base, deadline)
            self._live_node = node_id
            return CircularProof(f"no goals left, but the re-check would refuse the proof as {circular}")
        nid = self._new_node(node_id, sentences, steps, node.source)
        self._cut(len(self._live) - 1, deadline)  # drop the Qed: the tip is the finished state again
        self._live_node = nid
        return ProofFinished(nid, tuple(self.proof_of(nid)))

    def _circular(self, source: TheoremSource, deadline: float) -> str | None:
        """For a library theorem just closed by `Qed` in the live document: why the re-check would refuse
        the proof as circular (a later lemma of its own file, as compiled), or None. The same check as
        `verify`'s, done here, within the tactic's deadline, so a search does not spend a whole re-check
        (a coqc run and an audit, seconds each) on every `lra` that reaches `RIneq.pos_INR` from a
        theorem of RIneq.v. Not the soundness check: `verify` still runs it on every proof."""
        library = self._session_key[2]
        if library is None or deadline - time.monotonic() < MIN_CHECK_SECONDS:
            return None  # no time left for it: the re-check decides
        reason = circular_dependency(self.session, self._tip(), source.name, source, library, deadline)
        return reason if reason is not None and reason.startswith(CIRCULAR) else None

    def proof_of(self, node_id: int) -> list[str]:
        """The proof steps from the theorem's start to `node_id`."""
        steps: list[str] = []
        nid: int | None = node_id
        while nid is not None:
            node = self._nodes[nid]
            steps.extend(reversed(node.steps))
            nid = node.parent
        return list(reversed(steps))

    def verify(self, theorem: TheoremRef, proof: Sequence[str], timeout: float | None = None) -> Verdict:
        """Re-check `proof` with coqc and audit its axioms, within `timeout` (default: verify_timeout)
        + LIMIT_SLACK seconds; past it the verdict is a failure whose reason starts with "timeout"."""
        source = locate(theorem)
        return verify_theorem(
            source,
            list(proof),
            allowed_axioms=self.config.allowed_axioms,
            additional_imports=self.config.additional_imports,
            timeout=self.config.verify_timeout if timeout is None else timeout,
            memory_limit=self.config.memory_limit,
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._live, self._live_node = [], None

    # ------------------------------------------------------------------ rendering
    def _state(self, nid: int, goals: xp.CoqGoals) -> TacticState:
        pp, parsed = render_goals(goals)
        return TacticState(pp=pp, id=nid, goals=parsed)


def _configure(config: CoqConfig | None, overrides: dict[str, object]) -> CoqConfig:
    """`config` (default `CoqConfig()`) with `overrides` replaced; a misspelled option is a TypeError."""
    if config is not None and not isinstance(config, CoqConfig):
        raise TypeError(f"CoqEnvironment(config=...) takes a CoqConfig, not {type(config).__name__}")
    known = [f.name for f in dataclasses.fields(CoqConfig)]
    unknown = [k for k in overrides if k not in known]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, known, n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise TypeError(f"CoqEnvironment got unknown option(s) {', '.join(hints)}; options are: {', '.join(known)}")
    return dataclasses.replace(config if config is not None else CoqConfig(), **overrides)  # type: ignore[arg-type]


def render_goals(goals: xp.CoqGoals) -> tuple[str, tuple[Goal, ...]]:
    """LeanDojo-style text of a Coq proof state (shared by the live environment and the tracer):
    the focused goals, else the unfocused/shelved/given-up ones under a one-line header."""
    if goals.foreground:
        shown, header = goals.foreground, None
    elif goals.background:
        shown, header = (
            goals.background,
            "(this subproof is complete; unfocused goals remain: use the next bullet or '}')",
        )
    elif goals.shelved:
        shown, header = goals.shelved, "(only shelved goals remain: use Unshelve)"
    else:
        shown, header = goals.given_up, "(only given-up goals remain)"
    parsed = tuple(Goal(g.hypotheses, g.conclusion, g.name) for g in shown)
    pp = "\n\n".join(([header] if header else []) + [g.pp for g in parsed])
    return pp, parsed


def _char_range(sentence: Sentence, sent_text: str, loc: tuple[int, int] | None) -> tuple[int, int] | None:
    """Coq's byte offsets into the sentence as sent → character offsets into the user's tactic."""
    if loc is None:
        return None
    wrapper = len(sent_text.encode("utf-8")) - len(sentence.text.encode("utf-8"))
    raw = sentence.text.encode("utf-8")

    def to_char(b: int) -> int:
        b = min(max(0, b - wrapper), len(raw))
        return sentence.start + len(raw[:b].decode("utf-8", "ignore"))

    return (to_char(loc[0]), to_char(loc[1]))
