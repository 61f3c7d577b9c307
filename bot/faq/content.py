"""Seed content on disk: ``data/faq/*.yml`` topics and ``domain.yml`` responses.

It also writes Rasa's training file for the FAQ retrieval intents, so the
questions live next to their answer and the Rasa data is derived from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.faq.schemas import BotResponse, Button, FaqTopic

__all__ = ["load_domain_responses", "load_topics", "render_nlu_file"]

RETRIEVAL_INTENT = "faq"


# In `related`, "officer" adds the "Gặp cán bộ" button (cases the police must handle in person).
OFFICER_RELATED = "officer"


def load_topics(faq_dir: Path) -> list[FaqTopic]:
    """Read every topic of every ``*.yml`` file in the FAQ folder, checked."""
    topics: list[FaqTopic] = []
    for path in sorted(faq_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        topics.extend(FaqTopic.model_validate(item) for item in doc.get("topics", []))
    keys = [t.key for t in topics]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise ValueError(f"duplicate FAQ keys: {sorted(duplicates)}")
    unknown = {r for t in topics for r in t.related} - set(keys) - {OFFICER_RELATED}
    if unknown:
        raise ValueError(f"related keys without a topic: {sorted(unknown)}")
    return topics


def load_domain_responses(domain_path: Path) -> dict[str, BotResponse]:
    """Read the first variation of every response in the Rasa domain."""
    doc = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    out: dict[str, BotResponse] = {}
    for name, variations in (doc.get("responses") or {}).items():
        first: dict[str, Any] = variations[0]
        out[name] = BotResponse(
            text=first["text"],
            buttons=[Button.model_validate(b) for b in first.get("buttons", [])],
        )
    return out


class _Literal(str):
    """A string dumped in YAML block style."""


def _literal_representer(dumper: yaml.SafeDumper, data: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


class _Dumper(yaml.SafeDumper):
    """SafeDumper writing example lists as block scalars, without touching yaml's globals."""


_Dumper.add_representer(_Literal, _literal_representer)


def render_nlu_file(topics: list[FaqTopic]) -> str:
    """Return Rasa NLU data (examples + responses) for the FAQ retrieval intent.

    The response texts in this file are only the topic titles: Rasa needs a
    response per retrieval key to train, but citizens get the answer from the
    database through the NLG endpoint, so editing an answer never retrains.
    """
    nlu = [
        {
            "intent": f"{RETRIEVAL_INTENT}/{t.key}",
            "examples": _Literal("".join(f"- {q}\n" for q in t.questions)),
        }
        for t in topics
    ]
    responses = {f"utter_{RETRIEVAL_INTENT}/{t.key}": [{"text": t.title}] for t in topics}
    header = "# Generated from data/faq/*.yml by `make nlu-data`. Do not edit.\n"
    body = yaml.dump(
        {"version": "3.1", "nlu": nlu, "responses": responses},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        width=1000,
    )
    return header + body
