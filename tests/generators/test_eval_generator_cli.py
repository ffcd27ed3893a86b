import json

from proofsmith_cli.main import main


def test_eval_generator_cli_table_and_json(trained_tiny, synthetic_dataset, tmp_path, capsys):
    out = tmp_path / "gen.json"
    rc = main(["eval-generator", "--data", str(synthetic_dataset), "--model", str(trained_tiny), "--k", "4",
               "--split", "val", "--out", str(out), "--quiet"])
    assert rc == 0
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"random", "novel_premises"}
    for rows in report["results"].values():
        assert set(rows) == {"knn", "lora-model", "ensemble"}
        for r in rows.values():
            assert r["steps"] > 0 and 0.0 <= r["top1"] <= r["topk"] <= 1.0
    assert report["retriever"] == "bm25"  # taken from the trained model's generator.json
    assert "| random | knn |" in capsys.readouterr().out


def test_train_cli_help_lists_lora_options(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for opt in ("--lora-r", "--lora-alpha", "--grad-accum", "--merge", "--init", "--mutants", "--retriever"):
        assert opt in text
