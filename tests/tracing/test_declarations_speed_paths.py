"""The declaration parser's fast paths give the same spans, and the per-process cache never serves a stale file."""

from __future__ import annotations

import os

from proofsmith.envs.coq.declarations import parse_declarations
from proofsmith.envs.coq.libraries import LibraryResolver


def test_alias_span_skips_qualified_and_longer_identifiers():
    # `nat_ind` and `M.foo` contain the alias text but are not the alias itself
    text = "Definition foo (nat_foo : nat) (x := M.foo) : nat := foo_x.\nInductive t := foo' | c : t.\n"
    d = parse_declarations(text, "L")
    assert d.span_of("L.foo") == ((1, 12), (1, 15))
    assert d.span_of("L.foo'") == ((2, 16), (2, 20))  # the constructor, with its prime
    assert d.span_of("L.c") == ((2, 23), (2, 24))


def test_resolver_reparses_a_library_whose_source_changed(tmp_path):
    src = tmp_path / "Lib.v"
    src.write_text("Lemma one : True.\nProof. exact I. Qed.\n")
    first = LibraryResolver([(str(tmp_path), "P")]).declarations("P.Lib")
    assert first is not None and [p.full_name for p in first.premises] == ["P.Lib.one"]
    # a second resolver (the next traced file in the same worker) shares the parse
    assert LibraryResolver([(str(tmp_path), "P")]).declarations("P.Lib") is first
    src.write_text("Lemma one : True.\nProof. exact I. Qed.\nLemma two : True.\nProof. exact I. Qed.\n")
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again = LibraryResolver([(str(tmp_path), "P")]).declarations("P.Lib")
    assert again is not None and [p.full_name for p in again.premises] == ["P.Lib.one", "P.Lib.two"]
