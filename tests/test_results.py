import json

import pytest
import torch

from dgm.results import read_result, training_facts, write_result


def test_result_records_its_provenance(tmp_path):
    path = write_result("demo", {"nll": 1.25}, profile="smoke", folder=tmp_path)
    record = json.loads(path.read_text())
    assert record["metrics"] == {"nll": 1.25} and record["profile"] == "smoke"
    assert record["torch"] == torch.__version__
    assert record["hardware"] and record["command"] and record["date"]
    assert len(record["git_commit"].split("+")[0]) == 40 or record["git_commit"] == "unknown"
    assert read_result("demo", folder=tmp_path) == record
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]


def test_missing_result_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        read_result("nothing", folder=tmp_path)


@pytest.mark.parametrize("run", ["flow_mnist", "flow_mnist_continued", "flow_mnist_vardeq"])
def test_training_facts_of_an_exported_checkpoint(run):
    """A committed flow checkpoint's record gives the training facts its results file repeats; a warm restart's
    results also repeat those of the run it started from (and of the run that one started from, nested)."""
    from dgm.checkpoint import load_checkpoint, load_model
    from dgm.paths import CHECKPOINTS_DIR
    from dgm.recipes import FLOW_RUNS

    path = CHECKPOINTS_DIR / f"{run}.pt"
    facts = training_facts(load_checkpoint(path), load_model(path))
    metrics = read_result(run)["metrics"]
    assert facts == {k: metrics[k] for k in facts}
    assert facts["train_steps"] > 0 and facts["parameters"] > 0
    first = FLOW_RUNS[run].init_from
    if first is not None:
        first_facts = read_result(first)["metrics"]
        earlier = {"warm_start": first_facts["warm_start"]} if "warm_start" in first_facts else {}
        assert metrics["warm_start"] == {"run": first, **{k: first_facts[k] for k in
                                                          ("train_steps", "batch_size", "train_seconds", "train_hardware")},
                                         **earlier}


def test_committed_autoencoder_results():
    for d in (2, 32):
        record = read_result(f"autoencoder_mnist_z{d}")
        assert record["profile"] == "cpu" and record["metrics"]["test_images"] == 10_000
