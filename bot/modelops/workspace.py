"""The training data the console adds, merged with the seed data into a Rasa workspace.

The seed (``data/faq/*.yml``, ``data/nlu``, ``data/rules``, ``domain.yml``, ``config.yml``)
stays as it is in git; topics created in the console (``faq_entry`` rows without a seed
file) and questions assigned from the unanswered inbox (``training_question``) are added on
top. The evaluation file is never part of a workspace.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.analytics.models import TrainingQuestion
from bot.analytics.service import add_questions
from bot.faq.content import RETRIEVAL_INTENT, load_topics, render_nlu_file
from bot.faq.models import FaqEntry
from bot.faq.schemas import FaqTopic

__all__ = [
    "ADVISED_QUESTIONS",
    "KEY_RE",
    "TopicError",
    "Workspace",
    "build_workspace",
    "create_topic",
    "thin_topics",
    "validate_workspace",
]

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
# Fewer example questions than this and a new topic is recognised only when asked almost
# word for word (measured: 8 questions, an unseen paraphrase fell just under the threshold).
ADVISED_QUESTIONS = 10
_COPIED = (
    "config.yml",
    "domain.yml",
    "data/rules",
    "data/nlu/intents.yml",
    "data/nlu/walkthrough.yml",
)


class TopicError(ValueError):
    """A topic that cannot be created, with a message for the admin."""


@dataclass(frozen=True)
class Workspace:
    """A directory Rasa can train from, and what it holds beyond the seed."""

    path: Path
    topics: int
    added_questions: int


def create_topic(
    session: Session, *, key: str, title: str, answer: str, questions: list[str], username: str
) -> FaqEntry:
    """A new FAQ topic: answer live at once, recognised after the next training."""
    key = key.strip().lower()
    if not KEY_RE.match(key):
        raise TopicError("Mã chủ đề: chữ thường không dấu, số và _, 3–41 ký tự (ví dụ: doi_ten).")
    if session.scalar(select(FaqEntry.id).where(FaqEntry.key == key)) is not None:
        raise TopicError(f"Đã có chủ đề {key}.")
    questions = [q.strip() for q in questions if q.strip()]
    if len(questions) < 2:
        raise TopicError("Cần ít nhất 2 câu hỏi mẫu để trợ lý học được chủ đề mới.")
    # the same checks as the seed files
    FaqTopic.model_validate(
        {
            "key": key,
            "title": title.strip(),
            "answer": answer.strip(),
            "last_reviewed": "2026-01-01",
        }
    )
    entry = FaqEntry(key=key, title=title.strip(), answer=answer.strip(), related=[], sources=[])
    session.add(entry)
    add_questions(session, f"{RETRIEVAL_INTENT}/{key}", questions, username=username)
    session.flush()
    return entry


def thin_topics(session: Session, *, root: Path) -> dict[str, int]:
    """Console topics with fewer example questions than advised: key -> how many they have."""
    seed = {t.key for t in load_topics(root / "data" / "faq")}
    counts = dict(
        session.execute(
            select(TrainingQuestion.label, func.count()).group_by(TrainingQuestion.label)
        ).all()
    )
    return {
        key: counts.get(f"{RETRIEVAL_INTENT}/{key}", 0)
        for key in session.scalars(select(FaqEntry.key).order_by(FaqEntry.key))
        if key not in seed and counts.get(f"{RETRIEVAL_INTENT}/{key}", 0) < ADVISED_QUESTIONS
    }


def build_workspace(session: Session, *, root: Path, dest: Path) -> Workspace:
    """Write config, domain, rules and NLU data (seed + console additions) into ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    for relative in _COPIED:
        source, target = root / relative, dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)

    extra: dict[str, list[str]] = {}
    for q in session.scalars(select(TrainingQuestion).order_by(TrainingQuestion.id)):
        extra.setdefault(q.label, []).append(q.text)

    seed = {t.key: t for t in load_topics(root / "data" / "faq")}
    titles = dict(session.execute(select(FaqEntry.key, FaqEntry.title)).all())
    topics: list[FaqTopic] = []
    added = 0
    for key, title in sorted(titles.items()):
        base = seed.get(key)
        questions = list(base.questions) if base else []
        new = [q for q in extra.get(f"{RETRIEVAL_INTENT}/{key}", []) if q not in questions]
        if not questions and not new:
            continue  # a console topic without questions cannot be learnt yet
        added += len(new)
        topics.append(FaqTopic.model_construct(key=key, title=title, questions=questions + new))
    (dest / "data" / "nlu" / "faq.yml").write_text(render_nlu_file(topics), encoding="utf-8")

    intents_path = dest / "data" / "nlu" / "intents.yml"
    doc = yaml.safe_load(intents_path.read_text(encoding="utf-8"))
    for block in doc["nlu"]:
        name = block.get("intent")
        new = [q for q in extra.get(name, []) if f"- {q}\n" not in block["examples"]]
        if new:
            block["examples"] += "".join(f"- {q}\n" for q in new)
            added += len(new)
    intents_path.write_text(
        yaml.dump(doc, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8"
    )
    return Workspace(path=dest, topics=len(topics), added_questions=added)


def validate_workspace(workspace: Path, *, rasa_bin: Path, root: Path) -> tuple[bool, str]:
    """``rasa data validate`` on the workspace; returns (ok, its output)."""
    result = subprocess.run(  # noqa: S603 - fixed command, our own paths
        [
            str(rasa_bin),
            "data",
            "validate",
            "--fail-on-warnings",
            "--domain",
            "domain.yml",
            "--data",
            "data/nlu",
            "data/rules",
            "--config",
            "config.yml",
        ],
        cwd=workspace,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result.returncode == 0, (result.stdout + result.stderr)[-5000:]
