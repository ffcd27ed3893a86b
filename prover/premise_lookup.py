"""Premise retrieval inside proof search: a lookup over a traced premise corpus, with BM25 or with a
trained dense retriever (`proofsmith index` output: encoder + premise embeddings).

A benchmark theorem is not in the corpus, so ReProver's accessibility rule (the file's imports)
is read from its source instead: the libraries the theorem's file loads (`Require Import Reals.`,
`From Coq Require Import ZArith.`) are matched against the corpus files' logical names
(`Coq/Reals/Reals.v` is `Coq.Reals.Reals`; a `Require` name matches a library whose logical name
is it or ends with `.name`, under the `From` prefix), and the accessible premises are those of the
matched files and everything they import. When no `Require` matches a corpus file (or the source
cannot be read), every premise is accessible.

The lookup returns the full names of the top-k premises (usable in `apply`, `rewrite`: a full
name resolves whenever its library is loaded), only of the kinds a tactic can use (lemmas,
theorems...; not definitions or inductive types).
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Container, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq.compat import stdlib_as_coq
from proofsmith.envs.coq.declarations import required_libraries as sentence_libraries
from proofsmith.envs.coq.libraries import library_name, library_path, logical_name
from proofsmith.envs.coq.sentences import split_sentences, strip_comments
from proofsmith.prover.generators.goal_shape import first_goal, introduce, needs_intros
from proofsmith.retrieval.bm25 import BM25Retriever
from proofsmith.retrieval.corpus import PremiseCorpus

if TYPE_CHECKING:
    from proofsmith.retrieval.dense import DenseRetriever

log = logging.getLogger(__name__)

DEFAULT_K = 8
# Premise kinds a tactic can apply or rewrite with.
USABLE_KINDS = frozenset({"lemma", "theorem", "remark", "corollary", "fact", "proposition", "property", "axiom"})

_IDENT = re.compile(r"(?<![\w'.])[A-Za-z_][\w']*(?![\w'.])")

# The number types a statement can be about, how a premise's code names each (`n : Z`, `(0 <= p)%Z`),
# and the modules whose lemmas are about it (`Coq.ZArith.BinInt.Z.mul_le_mono_nonneg_l`).
NUMBER_SORTS: dict[str, tuple[re.Pattern[str], str]] = {
    "R": (re.compile(r"(?<![\w'.])R\b|%R\b"), ".R."),
    "Z": (re.compile(r"(?<![\w'.])Z\b(?!\.)|%Z\b"), ".Z."),
    "nat": (re.compile(r"(?<![\w'.])nat\b|%nat\b"), ".Nat."),
    "N": (re.compile(r"(?<![\w'.])N\b(?!\.)|%N\b"), ".N."),
    "positive": (re.compile(r"(?<![\w'.])positive\b|%positive\b"), ".Pos."),
    "Q": (re.compile(r"(?<![\w'.])Q\b(?!\.)|%Q\b"), ".Q."),
}
_SORT_BIT = {sort: 1 << i for i, sort in enumerate(NUMBER_SORTS)}
# The number type of a library's statements that name none (Zorder.v: `forall n m p, n <= m -> ...`
# under Z_scope).
LIBRARY_SORTS = (
    ("Coq.Reals.", "R"),
    ("Coquelicot.", "R"),
    ("Coq.ZArith.", "Z"),
    ("Coq.Arith.", "nat"),
    ("Coq.NArith.", "N"),
    ("Coq.PArith.", "positive"),
    ("Coq.QArith.", "Q"),
)
# Files whose every declaration is inside a functor or a module type: no tactic can name them; their
# lemmas are used through the modules that include them (`Z.`, `N.`, `Nat.`: `envs.coq.module_fields`).
FUNCTOR_LIBRARIES = (
    "Coq.Numbers.NatInt.",
    "Coq.Numbers.Natural.Abstract.",
    "Coq.Numbers.Integer.Abstract.",
    "Coq.Structures.",
)


# What the lemmas' names call a notation (`Z.add_lt_mono_r : n < m <-> n + p < m + p`): a state reads
# `m + p < n + p` and shares no word with that name unless the query spells its operators out.
NOTATION_WORDS = {
    "+": "add plus",
    "-": "sub minus opp",
    "*": "mul mult",
    "/": "div inv",
    "^": "pow",
    "<": "lt",
    "<=": "le",
    ">": "gt lt",
    ">=": "ge le",
    "=": "eq",
    "<>": "neq",
    "~": "not",
    "<->": "iff",
    "/\\": "and",
    "\\/": "or",
    "=?": "eqb",
    "<=?": "leb",
    "<?": "ltb",
    "?=": "compare",
    "++": "app",
    "::": "cons",
}
_NOTATION = re.compile(
    r"(?<![^\s(])(" + "|".join(re.escape(op) for op in sorted(NOTATION_WORDS, key=len, reverse=True)) + r")(?=[\s(])"
)


def spelled_notations(query: str) -> str:
    """`query` followed by the words of the notations it uses, each once (`NOTATION_WORDS`)."""
    ops = dict.fromkeys(m.group(1) for m in _NOTATION.finditer(query))
    return " ".join([query, *(NOTATION_WORDS[op] for op in ops)])


def premise_sorts(full_name: str, code: str) -> int:
    """The number types a premise is about, as bits of `_SORT_BIT`: named in its statement, or the
    module it belongs to (`Z.`, `Nat.`...), else its library's (`LIBRARY_SORTS`); 0 when none says."""
    statement = code.split(":=", 1)[0]
    bits = 0
    for sort, (pattern, module) in NUMBER_SORTS.items():
        if pattern.search(statement) or module in f".{full_name}":
            bits |= _SORT_BIT[sort]
    if not bits:
        bits = next((_SORT_BIT[sort] for prefix, sort in LIBRARY_SORTS if full_name.startswith(prefix)), 0)
    return bits


def state_sorts(state_pp: str) -> int:
    """The number types of the first goal's variables, those it binds (`forall p q : Z, ...`) included,
    as bits of `_SORT_BIT` (0: none)."""
    shape = first_goal(state_pp)
    if shape is None:
        return 0
    if needs_intros(shape.goal):
        shape = introduce(shape) or shape
    return sum(_SORT_BIT[s] for s in set(shape.variables.values()) if s in _SORT_BIT)


def required_libraries(text: str) -> list[str]:
    """Logical names the `Require` sentences of `text` load, `From X` prefixed (`X.Name`), in order
    (Rocq 9's `Stdlib` root read as `Coq`, as the environment reads it)."""
    out: list[str] = []
    for sentence in split_sentences(stdlib_as_coq(text), allow_unterminated=True):
        for name in sentence_libraries(" ".join(strip_comments(sentence.text).split())):
            if name not in out:
                out.append(name)
    return out


def matching_files(libraries: Iterable[str], corpus_paths: Iterable[str]) -> list[str]:
    """Corpus files whose logical name is one of `libraries`, ends with `.library`, or (for
    `From Root Require Name`, given as `Root.Name`) is under `Root` and ends with `.Name`."""
    paths = list(corpus_paths)
    names = {p: logical_name(p) for p in paths}
    out: list[str] = []
    for lib in libraries:
        for p in paths:
            n = names[p]
            root, _, rest = lib.partition(".")
            under_root = bool(rest) and n.startswith(root + ".") and n.endswith("." + rest)  # From Coq Require ZArith
            if (n == lib or n.endswith("." + lib) or under_root) and p not in out:
                out.append(p)
    return out


def corpus_file(theorem: TheoremRef, corpus_paths: Container[str]) -> str | None:
    """The corpus path (`Coq/ZArith/BinInt.v`, `Coquelicot/RInt.v`) of the file the theorem is in,
    read through its load paths and Coq's defaults; None for a file the corpus does not hold."""
    library = library_name(theorem.file_path, theorem.load_paths)
    path = library_path(library) if library else None
    return path if path in corpus_paths else None


def state_query(state_pp: str) -> str:
    """What the retriever reads of a state: its first goal (hypotheses and conclusion) with the local
    names (variables, hypotheses) taken out: they say nothing about which lemma applies."""
    shape = first_goal(state_pp)
    if shape is None:
        return state_pp
    local = {n for h in shape.hyps for n in h.names}
    text = "\n".join([h.type for h in shape.props] + [shape.goal])
    return _IDENT.sub(lambda m: " " if m.group(0) in local else m.group(0), text)


class PremiseLookup(ABC):
    """`(theorem, state pp) -> top-k premise names` for `BestFirstSearch(premises=...)`; subclasses
    score the whole corpus for a query (`scores`), this class restricts to accessible, usable premises."""

    def __init__(self, corpus: PremiseCorpus, k: int = DEFAULT_K, kinds: Iterable[str] | None = USABLE_KINDS):
        self.corpus = corpus
        self.k = k
        usable = np.ones(len(corpus), dtype=bool)
        if kinds is not None:
            allowed = set(kinds)
            usable = np.array(
                [p.kind in allowed and not p.full_name.startswith(FUNCTOR_LIBRARIES) for p in corpus.premises],
                dtype=bool,
            )
        self._usable = usable
        self._sorts = np.array([premise_sorts(p.full_name, p.code) for p in corpus.premises], dtype=np.int64)
        self._accessible: dict[str, np.ndarray] = {}
        self._last_own: tuple[str, np.ndarray] | None = None

    @abstractmethod
    def scores(self, query: str) -> np.ndarray:
        """One score per corpus premise; higher is more relevant, <= 0 never returned."""

    # ------------------------------------------------------------------ accessibility
    def libraries(self, theorem: TheoremRef) -> list[str]:
        """What the theorem's source loads before it (its header, for a bare statement)."""
        try:
            from proofsmith.envs.coq.source import locate

            text = locate(theorem).prefix_text
        except Exception as e:  # unreadable source: no restriction
            log.warning("%s: cannot read its Require lines (%s): retrieving among all premises", theorem.name, e)
            text = theorem.header or ""
        return required_libraries(text)

    def accessible_ids(self, theorem: TheoremRef) -> np.ndarray:
        """A theorem of a corpus file (a library theorem, as traced): ReProver's rule, the premises of
        every file it imports and those of its own file that end before its statement. Any other
        theorem (a benchmark statement): the premises of the libraries its source `Require`s."""
        own = corpus_file(theorem, self.corpus.ranges)
        if own is not None and theorem.position is not None:
            # one theorem's ids at a time: a search asks for the same theorem at every state, and one
            # array per position would grow with the split (the corpus caches each file's imports)
            key = f"{own}@{theorem.position[0]}:{theorem.position[1]}"
            if self._last_own is None or self._last_own[0] != key:
                own_ids = self.corpus.accessible_ids(own, theorem.position)
                self._last_own = (key, np.sort(own_ids[self._usable[own_ids]]))
            return self._last_own[1]
        key = f"{theorem.file_path}::{theorem.header}" if theorem.file_path else theorem.header
        cached = self._accessible.get(key)
        if cached is None:
            cached = self._compute_accessible(self.libraries(theorem))
            self._accessible[key] = cached
        return cached

    def _compute_accessible(self, libraries: Sequence[str]) -> np.ndarray:
        files = matching_files(libraries, self.corpus.ranges)
        if not files:
            mask = self._usable.copy()
        else:
            mask = np.zeros(len(self.corpus), dtype=bool)
            for f in files:
                mask[np.arange(*self.corpus.ranges[f])] = True
                mask[self.corpus.imported_ids(f)] = True
            mask &= self._usable
        return np.flatnonzero(mask)

    # ------------------------------------------------------------------ lookup
    def retrieve(self, theorem: TheoremRef, state_pp: str, k: int | None = None) -> list[tuple[str, float]]:
        """(full name, score) of the top-k accessible premises for the state's first goal."""
        k = self.k if k is None else k
        ids = self.accessible_ids(theorem)
        if len(ids) == 0 or k <= 0:
            return []
        query = state_query(state_pp)
        scores = self.scores(query)[ids]
        goal = state_sorts(state_pp)
        if goal:  # a lemma about other number types only cannot apply: `Nat.mul_le_mono_nonneg_l` on Z
            sorts = self._sorts[ids]
            scores = np.where((sorts != 0) & (sorts & goal == 0), 0.0, scores)
        kk = min(k, len(ids))
        top = np.argpartition(-scores, kk - 1)[:kk]
        top = top[np.lexsort((ids[top], -scores[top]))]
        own = corpus_file(theorem, self.corpus.ranges)
        # The theorem's own file is being replayed, not loaded: its earlier premises go by the name
        # relative to the file (`Z.testbit_neg_r`, not `Coq.ZArith.BinInt.Z.testbit_neg_r`).
        own_prefix = logical_name(own) + "." if own else None
        out: list[tuple[str, float]] = []
        for i in top:
            if scores[i] <= 0:
                continue
            pid = int(ids[i])
            name = self.corpus.premises[pid].full_name
            if own_prefix and self.corpus.file_of[pid] == own and name.startswith(own_prefix):
                name = name[len(own_prefix) :]
            if name not in (n for n, _ in out):
                out.append((name, float(scores[i])))
        return out

    def __call__(self, theorem: TheoremRef, state_pp: str) -> list[str]:
        return [name for name, _ in self.retrieve(theorem, state_pp)]


class BM25PremiseLookup(PremiseLookup):
    """Lexical: BM25 over the premises' code."""

    def __init__(self, corpus: PremiseCorpus, k: int = DEFAULT_K, kinds: Iterable[str] | None = USABLE_KINDS):
        super().__init__(corpus, k, kinds)
        self.retriever = BM25Retriever(corpus)

    @classmethod
    def from_path(cls, path: Path | str, **kw) -> BM25PremiseLookup:
        """From a corpus.jsonl or a traced dataset directory holding one."""
        p = Path(path)
        return cls(PremiseCorpus.from_jsonl(p / "corpus.jsonl" if p.is_dir() else p), **kw)

    def scores(self, query: str) -> np.ndarray:
        return self.retriever.scores(spelled_notations(query))


class DensePremiseLookup(PremiseLookup):
    """Learned: cosine of the state's embedding with every premise's (the index's stored embeddings,
    so accessibility filtering is exact), from a trained encoder (`proofsmith train-retriever`)."""

    def __init__(self, retriever: DenseRetriever, k: int = DEFAULT_K, kinds: Iterable[str] | None = USABLE_KINDS):
        super().__init__(retriever.corpus, k, kinds)
        self.retriever = retriever

    @classmethod
    def from_path(cls, index_dir: Path | str, **kw) -> DensePremiseLookup:
        """From a `proofsmith index` directory (it records its encoder and corpus)."""
        from proofsmith.retrieval.dense import DenseRetriever

        return cls(DenseRetriever.load(index_dir, device="cpu"), **kw)

    def scores(self, query: str) -> np.ndarray:
        q = self.retriever.encoder.embed([query], queries=True)[0]
        # +1: cosine is in [-1, 1] and the lookup drops scores <= 0; keep the order, drop nothing
        return self.retriever.index.embeddings @ q + 1.0


def is_dense_index(path: Path | str) -> bool:
    """A `proofsmith index` output directory (rather than a corpus file or a traced dataset)."""
    return (Path(path) / "index_meta.json").is_file()


def build_lookup(path: Path | str | None, k: int = DEFAULT_K) -> PremiseLookup | None:
    """The lookup a prove job asks for (`JobConfig.premises`: a dense index directory, else a corpus
    for BM25), or None."""
    if not path:
        return None
    if is_dense_index(path):
        return DensePremiseLookup.from_path(path, k=k)
    return BM25PremiseLookup.from_path(path, k=k)
