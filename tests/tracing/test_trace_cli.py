"""`proofsmith trace` end to end on a directory without _CoqProject, logical path given as SRC=NAME."""

import json

from proofsmith.cli.main import main


def test_trace_cli_logical_path_and_no_vo(tmp_path, capsys):
    src = tmp_path / "plain"
    src.mkdir()
    (src / "C.v").write_text("Lemma c_one : 0 + 1 = 1.\nProof.\n  simpl.\n  reflexivity.\nQed.\n")
    out = tmp_path / "out"
    assert main(["trace", f"{src}=My.Lib", "--out", str(out), "--quiet", "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert '"traced_theorems": 1' in printed
    rec = json.loads((out / "random/train.json").read_text())[0]
    assert rec["full_name"] == "My.Lib.C.c_one" and rec["file_path"] == "My/Lib/C.v"
    assert [(t["tactic"], t["state_after"]) for t in rec["traced_tactics"]] == [
        ("simpl.", "⊢ 1 = 1"),
        ("reflexivity.", "no goals"),
    ]
    assert not list(src.glob("*.vo")) and (out / "build").is_dir()
    assert main(["trace", str(tmp_path / "missing"), "--out", str(out), "--quiet"]) == 2
