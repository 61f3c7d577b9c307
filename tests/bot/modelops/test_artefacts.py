"""The model is retrained only when its inputs change."""

from __future__ import annotations

import shutil

from bot.config import PROJECT_ROOT
from bot.modelops import artefacts as training


def copy_inputs(tmp_path):
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path / name)
    for name in ("data/nlu", "data/rules", "nlu"):
        shutil.copytree(
            PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    (tmp_path / "requirements").mkdir()
    shutil.copy(
        PROJECT_ROOT / "requirements" / "rasa.lock", tmp_path / "requirements" / "rasa.lock"
    )
    return tmp_path


def test_fingerprint_is_stable_and_tracks_inputs(tmp_path):
    root = copy_inputs(tmp_path)
    first = training.fingerprint(root)
    assert training.fingerprint(root) == first
    (root / "README.md").write_text("docs do not change the model")
    assert training.fingerprint(root) == first
    with (root / "data" / "nlu" / "intents.yml").open("a", encoding="utf-8") as f:
        f.write("    - xin chào cả nhà\n")
    changed = training.fingerprint(root)
    assert changed != first
    (root / "nlu" / "text.py").write_text((root / "nlu" / "text.py").read_text() + "\n# tweak\n")
    assert training.fingerprint(root) != changed


def test_code_rasa_runs_only_while_serving_does_not_retrain(tmp_path):
    root = copy_inputs(tmp_path)
    first = training.fingerprint(root)
    for name in ("serving.py", "tracker_store.py"):
        path = root / "nlu" / name
        path.write_text(path.read_text() + "\n# faster\n")
    assert training.fingerprint(root) == first


def test_ensure_model_reuses_an_existing_model(tmp_path):
    root = copy_inputs(tmp_path)
    target = training.model_path(root)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"model")
    missing_rasa = tmp_path / "no-rasa-here"
    assert training.ensure_model(root, missing_rasa) == target


def test_model_names_differ_per_config(tmp_path):
    root = copy_inputs(tmp_path)
    shutil.copy(PROJECT_ROOT / "tests" / "eval" / "config_rasa_default.yml", root / "baseline.yml")
    assert training.model_path(root).name.startswith("vneid-")
    assert training.model_path(root, "baseline.yml").name.startswith("baseline-")


def test_prune_keeps_the_current_and_the_previous_model(tmp_path):
    import os

    models = tmp_path / "models"
    models.mkdir()
    paths = []
    for i, digest in enumerate(["aaa", "bbb", "ccc", "ddd"]):
        path = models / f"vneid-{digest}.tar.gz"
        path.write_bytes(b"m")
        os.utime(path, (1000 + i, 1000 + i))
        paths.append(path)
    baseline = models / "config_rasa_default-eee.tar.gz"
    baseline.write_bytes(b"b")
    removed = training.prune_models(paths[-1])
    assert sorted(p.name for p in removed) == ["vneid-aaa.tar.gz", "vneid-bbb.tar.gz"]
    assert sorted(p.name for p in models.iterdir()) == [
        "config_rasa_default-eee.tar.gz",
        "vneid-ccc.tar.gz",
        "vneid-ddd.tar.gz",
    ]


def test_a_serving_rasa_gets_one_blas_thread_training_keeps_the_default(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert training.rasa_env(PROJECT_ROOT, serving=True)["OPENBLAS_NUM_THREADS"] == "1"
    assert "OPENBLAS_NUM_THREADS" not in training.rasa_env(PROJECT_ROOT)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")  # an operator's own choice wins
    assert training.rasa_env(PROJECT_ROOT, serving=True)["OPENBLAS_NUM_THREADS"] == "2"
