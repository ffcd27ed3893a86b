import json

from proofsmith.cli.main import main


def test_eval_generator_cli_table_and_json(trained_tiny, synthetic_dataset, tmp_path, capsys):
    out = tmp_path / "gen.json"
    rc = main(
        [
            "eval-generator",
            "--data",
            str(synthetic_dataset),
            "--model",
            str(trained_tiny),
            "--k",
            "4",
            "--split",
            "val",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    report = json.loads(out.read_text())
    assert set(report["results"]) == {"random", "novel_premises"}
    # the model was trained on random/train: it is not scored on novel_premises, whose test it may have seen
    assert set(report["results"]["random"]) == {"knn", "lora-model", "ensemble"}
    assert set(report["results"]["novel_premises"]) == {"knn"}
    for rows in report["results"].values():
        for r in rows.values():
            assert r["steps"] > 0 and 0.0 <= r["top1"] <= r["topk"] <= 1.0
    assert report["retrievers"] == {"random": "bm25"}  # taken from the trained model's generator.json
    text = capsys.readouterr().out
    assert "| random | knn |" in text and "novel_premises: no model trained on this split" in text


def test_eval_generator_cli_one_model_per_split(trained_tiny, synthetic_dataset, tmp_path):
    out = tmp_path / "gen.json"
    rc = main(
        [
            "eval-generator",
            "--data",
            str(synthetic_dataset),
            "--model",
            f"novel_premises={trained_tiny}",
            "--k",
            "4",
            "--split",
            "val",
            "--out",
            str(out),
            "--quiet",
            "--no-knn",
            "--splits",
            "novel_premises",
        ]
    )
    assert rc == 0
    report = json.loads(out.read_text())
    assert set(report["results"]["novel_premises"]) == {"lora-model"}


def test_train_cli_help_lists_lora_options(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for opt in ("--lora-r", "--lora-alpha", "--grad-accum", "--merge", "--init", "--mutants", "--retriever"):
        assert opt in text
