"""Online learning for the k-NN (Tactician's protocol on unseen packages): the proofs a theorem can see
(its file's imports, the earlier theorems of its file) join the index; nothing else does."""

import json
from pathlib import Path

import numpy as np
import pytest
from gen_fixtures import synthetic_theorems

from proofsmith.dataset.loading import tactic_pairs
from proofsmith.dataset.schema import CorpusFile, TheoremRecord, TracedTactic
from proofsmith.envs.base import TheoremRef
from proofsmith.prover.generators.ensemble import EnsembleGenerator
from proofsmith.prover.generators.factory import GeneratorSpecError, check_spec, split_leak
from proofsmith.prover.generators.knn import KNNTacticGenerator, from_spec
from proofsmith.prover.generators.online import OnlineExamples
from proofsmith.prover.generators.tfidf import TfidfEncoder

ROOT = Path("/usr/lib/coq/user-contrib")


def _record(path: str, name: str, start: tuple[int, int], state: str, tactic: str) -> TheoremRecord:
    step = TracedTactic(tactic, (tactic, ()), state, "")
    return TheoremRecord("", "", path, name, start, (start[0] + 2, 5), (step,), f"Lemma {name} : True.")


# Pkg/B.v imports Pkg/A.v; Pkg/C.v imports nothing.
RECORDS = [
    _record("Pkg/A.v", "Pkg.A.frob_a1", (1, 1), "x : T\n⊢ frobnicate x = x", "apply frob_id."),
    _record("Pkg/A.v", "Pkg.A.frob_a2", (10, 1), "y : T\n⊢ frobnicate (frobnicate y) = y", "rewrite !frob_id."),
    _record("Pkg/B.v", "Pkg.B.frob_b1", (5, 1), "z : T\n⊢ frobnicate z = z", "exact (frob_id z)."),
    _record("Pkg/C.v", "Pkg.C.frob_c1", (3, 1), "w : T\n⊢ frobnicate w = w", "now apply frob_id."),
]
IMPORTS = {"Pkg/A.v": (), "Pkg/B.v": ("Pkg/A.v",), "Pkg/C.v": ()}


def _ref(record: TheoremRecord) -> TheoremRef:
    return TheoremRef(record.full_name.rsplit(".", 1)[1], file_path=ROOT / record.file_path, position=record.start)


def _write_split(tmp_path: Path) -> Path:
    (tmp_path / "novel_packages").mkdir()
    split = tmp_path / "novel_packages" / "test.json"
    split.write_text(json.dumps([r.to_json() for r in RECORDS]))
    with open(tmp_path / "corpus.jsonl", "w") as f:
        for path, imports in IMPORTS.items():
            f.write(json.dumps(CorpusFile(path, imports, ()).to_json()) + "\n")
    return split


def test_online_examples_visible_only_from_imports_and_earlier_in_the_same_file(tmp_path):
    online = OnlineExamples.from_split(_write_split(tmp_path))
    assert len(online) == 4
    seen = {r.full_name: [online.examples[i].tactic for i in online.visible(_ref(r))] for r in RECORDS}
    assert seen["Pkg.A.frob_a1"] == []  # the first theorem of its file: nothing before it, not itself
    assert seen["Pkg.A.frob_a2"] == ["apply frob_id."]
    assert seen["Pkg.B.frob_b1"] == ["apply frob_id.", "rewrite !frob_id."]  # B imports A, not C
    assert seen["Pkg.C.frob_c1"] == []  # C imports nothing: A's and B's proofs are not compiled for it
    stranger = TheoremRef.from_statement("Lemma s : True.", "s")
    assert len(online.visible(stranger)) == 0


def test_tfidf_hashes_unseen_tokens_into_buckets_so_new_names_still_match(tmp_path):
    fitted_on = [s["state"] for s in tactic_pairs(synthetic_theorems())]  # no `frobnicate` among them
    plain = TfidfEncoder.fit(fitted_on)
    hashed = TfidfEncoder.fit(fitted_on, oov_buckets=1 << 12)
    a, b, c = "x : T\n⊢ frobnicate x = x", "y : T\n⊢ frobnicate y = y", "x : T\n⊢ wibble x = x"
    assert "frobnicate" not in hashed.vocab and hashed.dim == plain.dim + (1 << 12)

    def cos(enc: TfidfEncoder, s: str, t: str) -> float:
        return float((enc.encode_sparse([s]) @ enc.encode_sparse([t]).T).toarray()[0, 0])

    assert cos(plain, a, b) == pytest.approx(cos(plain, a, c))  # without buckets the new names are dropped
    assert cos(hashed, a, b) > 0.99 > cos(hashed, a, c)  # with them, `frobnicate` tells a from c
    # a bucket no fitted state fell in weighs the most: idf = log(n + 1) + 1
    col = hashed.column("frobnicate")
    assert col is not None and col >= len(hashed.vocab)
    assert hashed.idf[col] == pytest.approx(np.log(len(fitted_on) + 1) + 1, rel=1e-5)
    hashed.save(tmp_path / "tfidf.json")
    again = TfidfEncoder.load(tmp_path / "tfidf.json")
    assert again.oov_buckets == 1 << 12
    assert (again.encode_sparse([a]) != hashed.encode_sparse([a])).nnz == 0


def test_knn_with_online_examples_proposes_a_visible_proof_and_never_a_hidden_one(tmp_path):
    knn = KNNTacticGenerator.from_pairs(tactic_pairs(synthetic_theorems()))
    knn.set_online(OnlineExamples.from_split(_write_split(tmp_path)))
    query = "v : T\n⊢ frobnicate v = v"
    assert [t for t, _ in knn.generate(query, [], 8) if "frob" in t] == []  # no theorem set: none visible
    ensemble = EnsembleGenerator([knn])
    ensemble.for_theorem(_ref(RECORDS[2]))  # frob_b1 sees A's two proofs
    tactics = [t for t, _ in knn.generate(query, [], 8)]
    assert tactics[0] == "apply frob_id."  # the nearest visible state, its hypothesis renamed by position
    assert "exact (frob_id z)." not in tactics and "exact (frob_id v)." not in tactics  # its own proof
    assert "now apply frob_id." not in tactics  # C's proof: C is not imported
    knn.for_theorem(_ref(RECORDS[0]))
    assert [t for t, _ in knn.generate(query, [], 8) if "frob" in t] == []


def test_knn_online_spec_is_checked_and_loaded(tmp_path):
    split = _write_split(tmp_path)
    index = KNNTacticGenerator.from_pairs(tactic_pairs(synthetic_theorems())).save(tmp_path / "idx")
    spec = check_spec(f"knn:{index}#online={split}")
    assert spec == f"knn:{index.resolve()}#online={split.resolve()}"
    assert split_leak(spec, "novel_packages/test") is None  # the online split is shown per theorem only
    with pytest.raises(GeneratorSpecError, match="not a traced split file"):
        check_spec(f"knn:{index}#online={tmp_path / 'missing.json'}")
    knn = from_spec(spec.removeprefix("knn:"))
    assert knn.online is not None and len(knn.online) == 4
    knn.for_theorem(_ref(RECORDS[1]))
    assert knn.generate("u : T\n⊢ frobnicate u = u", [], 4)[0][0] == "apply frob_id."
