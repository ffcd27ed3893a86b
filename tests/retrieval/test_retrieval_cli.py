"""The four subcommands end to end on the toy dataset."""

import json

from proofsmith.cli.main import main


def test_retrieve_cli_bm25_respects_position(toy_data, capsys):
    assert (
        main(
            [
                "retrieve",
                "⊢ ft5 n = g n",
                "--bm25",
                str(toy_data),
                "--file",
                "Top.v",
                "--pos",
                "60:1",
                "-k",
                "3",
                "--json",
            ]
        )
        == 0
    )
    rows = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert rows[0]["full_name"] == "Toy.Top.op5" and len(rows) == 3
    assert (
        main(
            [
                "retrieve",
                "⊢ ft5 n = g n",
                "--bm25",
                str(toy_data),
                "--file",
                "Top.v",
                "--pos",
                "20:1",
                "-k",
                "30",
                "--json",
            ]
        )
        == 0
    )
    names = [json.loads(l)["full_name"] for l in capsys.readouterr().out.splitlines()]
    assert "Toy.Top.op5" not in names and "Toy.Top.op1" in names


def test_retriever_cli_train_index_retrieve_eval(tmp_path, toy_data, capsys):
    ckpt, idx = tmp_path / "ckpt", tmp_path / "idx"
    assert (
        main(
            [
                "train-retriever",
                "--data",
                str(toy_data),
                "--out",
                str(ckpt),
                "--max-steps",
                "5",
                "--batch-size",
                "8",
                "--hidden-size",
                "32",
                "--layers",
                "1",
                "--heads",
                "2",
                "--vocab-size",
                "300",
                "--max-len",
                "48",
                "--split",
                "random",
                "--quiet",
            ]
        )
        == 0
    )
    assert (ckpt / "model.safetensors").is_file() and (ckpt / "loss_curve.png").is_file()
    assert main(["index", "--data", str(toy_data), "--model", str(ckpt), "--out", str(idx), "--quiet"]) == 0
    meta = json.loads((idx / "index_meta.json").read_text())
    assert meta["model_id"] == str(ckpt) and meta["num"] == 32 and meta["kind"] == "flat"
    capsys.readouterr()
    assert (
        main(["retrieve", "⊢ fb2 n = g n", "--index", str(idx), "--file", "Mid.v", "--pos", "1:1", "-k", "4", "--json"])
        == 0
    )
    rows = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert len(rows) == 4 and all(r["path"] == "Base.v" for r in rows)  # Mid.v has nothing before line 1
    out_json, out_md = tmp_path / "m.json", tmp_path / "m.md"
    assert (
        main(
            [
                "eval-retriever",
                "--data",
                str(toy_data),
                "--index",
                str(idx),
                "--json",
                str(out_json),
                "--markdown",
                str(out_md),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    data = json.loads(out_json.read_text())
    assert set(data["metrics"]) == {"bm25", "dense"}
    assert set(data["metrics"]["bm25"]) == {"random", "novel_premises"}
    assert data["metrics"]["bm25"]["random"]["num_queries"] > 0
    assert "| novel_premises | dense |" in table and out_md.read_text().strip() == data["markdown"]
