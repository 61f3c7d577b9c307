"""The PhoATIS benchmark's preparation: its files read, Rasa's data and config written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_phoatis", ROOT / "scripts/bench_phoatis.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def write_split(root: Path, split: str, lines: list[tuple[str, str]]) -> None:
    (root / split).mkdir(parents=True)
    (root / split / "seq.in").write_text("".join(f"{t}\n" for t, _ in lines), encoding="utf-8")
    (root / split / "label").write_text("".join(f"{lab}\n" for _, lab in lines), encoding="utf-8")


def test_a_split_is_read_with_multi_intent_labels_kept_as_one_class(tmp_path):
    write_split(
        tmp_path,
        "train",
        [("giá vé từ đà nẵng đi huế", "airfare"), ("giá vé và chuyến bay", "airfare#flight")],
    )
    assert bench.read_split(tmp_path, "train") == [
        ("giá vé từ đà nẵng đi huế", "airfare"),
        ("giá vé và chuyến bay", "airfare+flight"),
    ]


def test_a_split_with_unequal_files_is_refused(tmp_path):
    write_split(tmp_path, "test", [("a", "flight")])
    (tmp_path / "test" / "label").write_text("flight\nairfare\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        bench.read_split(tmp_path, "test")


def test_the_training_data_is_rasa_nlu_without_entity_brackets():
    data = yaml.safe_load(
        bench.nlu_yaml([("chuyến bay (sáng) [mai]", "flight"), ("vé rẻ", "airfare")])
    )
    examples = {b["intent"]: b["examples"] for b in data["nlu"]}
    assert examples == {"airfare": "- vé rẻ\n", "flight": "- chuyến bay sáng mai\n"}


def test_the_pipeline_is_the_projects_without_its_faq_parts():
    config = bench.nlu_config(ROOT / "config.yml")
    names = [p["name"] for p in config["pipeline"]]
    assert names[0] == "nlu.tokenizer.VietnameseTokenizer" and "DIETClassifier" in names
    assert not set(names) & bench.FAQ_PARTS and config["policies"] == []
