"""The walkthrough's steps and transitions, read from ``data/walkthrough.yml``.

The flow is data: a step is one short message with buttons, each button leads
to another step (or sends a fixed payload such as ``/request_handoff``). The
texts are seeded into the database (``utter_wt_<step>``) so admins can edit
them; the structure (which button leads where) stays in the YAML file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from nlu.text import fold

__all__ = [
    "ERROR_PAYLOAD",
    "RESUME_PAYLOAD",
    "RESTART_PAYLOAD",
    "STOP_PAYLOAD",
    "TARGET_ENTITY",
    "Flow",
    "Step",
    "WtButton",
    "go_payload",
    "load_flow",
    "to_mermaid",
]

ERROR_PAYLOAD = "/wt_error"
STOP_PAYLOAD = "/wt_stop"
RESUME_PAYLOAD = "/wt_resume"
RESTART_PAYLOAD = "/wt_restart"
HANDOFF_PAYLOAD = "/request_handoff"
MENU_PAYLOAD = "/show_menu"
TARGET_ENTITY = "wt_target"


def go_payload(step: str) -> str:
    """Payload of a button that moves the walkthrough to a step."""
    return "/wt_go" + json.dumps({TARGET_ENTITY: step}, separators=(",", ":"))


@dataclass(frozen=True)
class WtButton:
    """A button of a step: a label and either a target step or a fixed payload."""

    title: str
    next: str | None = None
    payload: str | None = None

    @property
    def rendered_payload(self) -> str:
        """The payload the citizen's client sends back."""
        return go_payload(self.next) if self.next else str(self.payload)


@dataclass(frozen=True)
class Step:
    """One message of the walkthrough."""

    name: str
    text: str
    buttons: tuple[WtButton, ...]
    fix: str | None = None
    # The step's own rule, for a question about this step ("how many characters?").
    help: str | None = None
    # FAQ topics a question at this step lands on that the step's rule answers better.
    about: tuple[str, ...] = ()

    @property
    def response(self) -> str:
        """Name of the response holding this step's text."""
        return f"utter_wt_{self.name}"

    @property
    def help_response(self) -> str:
        """Name of the response holding this step's rule."""
        return f"utter_wt_help_{self.name}"


@dataclass(frozen=True)
class Flow:
    """All steps, the fixes shown on errors and the fixed messages."""

    start: str
    steps: dict[str, Step]
    fixes: dict[str, str]
    messages: dict[str, tuple[str, tuple[str, ...]]]
    labels: dict[str, str] = field(default_factory=dict)
    # Where a first message that names the citizen's situation starts the guide, in order
    # of precedence: (step, folded phrases).
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def entry(self, text: str) -> str | None:
        """The step a first message names ("đã có tin nhắn duyệt" -> activation), if any."""
        words = f" {_words(text)} "
        for step, phrases in self.entries:
            if any(f" {p} " in words for p in phrases):
                return step
        return None

    def step(self, name: str) -> Step:
        """Return a step by name (KeyError when unknown)."""
        return self.steps[name]

    def buttons(self, name: str) -> list[WtButton]:
        """The buttons shown with a step, in order, the fixed ones last."""
        step = self.steps[name]
        out = list(step.buttons)
        if step.fix:
            out.append(WtButton(self.labels["error"], payload=ERROR_PAYLOAD))
        if step.buttons or step.fix:
            out.append(WtButton(self.labels["stop"], payload=STOP_PAYLOAD))
        else:  # the last step: offer the topics instead
            out.append(WtButton(self.labels["menu"], payload=MENU_PAYLOAD))
        return out

    def fix_buttons(self) -> list[WtButton]:
        """The buttons shown with every fix: retry, an officer, stop."""
        return [
            WtButton(self.labels["retry"], payload=RESUME_PAYLOAD),
            WtButton(self.labels["officer"], payload=HANDOFF_PAYLOAD),
            WtButton(self.labels["stop"], payload=STOP_PAYLOAD),
        ]

    def label_button(self, key: str) -> WtButton:
        """A fixed button by its label key (resume, restart, stop, menu, officer)."""
        payloads = {
            "resume": RESUME_PAYLOAD,
            "restart": RESTART_PAYLOAD,
            "stop": STOP_PAYLOAD,
            "menu": MENU_PAYLOAD,
            "officer": HANDOFF_PAYLOAD,
            "error": ERROR_PAYLOAD,
        }
        return WtButton(self.labels[key], payload=payloads[key])

    def first_next(self, name: str) -> str | None:
        """The step the first forward button of a step leads to."""
        return next((b.next for b in self.steps[name].buttons if b.next), None)


def load_flow(path: Path) -> Flow:
    """Read and check the walkthrough definition."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = {
        name: Step(
            name=name,
            text=str(raw["text"]).strip(),
            buttons=tuple(WtButton(**b) for b in raw.get("buttons") or []),
            fix=raw.get("fix"),
            help=str(raw["help"]).strip() if raw.get("help") else None,
            about=tuple(raw.get("about") or ()),
        )
        for name, raw in doc["steps"].items()
    }
    flow = Flow(
        start=doc["start"],
        steps=steps,
        fixes={k: str(v).strip() for k, v in doc["fixes"].items()},
        messages={
            k: (str(v["text"]).strip(), tuple(v.get("buttons") or []))
            for k, v in doc["messages"].items()
        },
        labels=dict(doc["labels"]),
        entries=tuple(
            (step, tuple(_words(p) for p in phrases))
            for step, phrases in (doc.get("entries") or {}).items()
        ),
    )
    _check(flow)
    return flow


def _check(flow: Flow) -> None:
    problems = []
    if flow.start not in flow.steps:
        problems.append(f"start step {flow.start!r} is not defined")
    for step in flow.steps.values():
        if step.fix and step.fix not in flow.fixes:
            problems.append(f"{step.name}: unknown fix {step.fix!r}")
        for b in step.buttons:
            if (b.next is None) == (b.payload is None):
                problems.append(f"{step.name}: button {b.title!r} needs next or payload")
            elif b.next and b.next not in flow.steps:
                problems.append(f"{step.name}: button {b.title!r} leads to unknown {b.next!r}")
        if step.about and not step.help:
            problems.append(f"{step.name}: 'about' needs a 'help' text")
    for step_name, phrases in flow.entries:
        if step_name not in flow.steps:
            problems.append(f"entry leads to unknown step {step_name!r}")
        if not all(phrases):
            problems.append(f"entry {step_name!r}: empty phrase")
    for key in ("error", "stop", "retry", "officer", "menu", "resume", "restart"):
        if key not in flow.labels:
            problems.append(f"missing label {key!r}")
    for name in ("not_started", "in_progress", "stopped", "offer_resume"):
        if name not in flow.messages:
            problems.append(f"missing message {name!r}")
    for name, (_, keys) in flow.messages.items():
        problems.extend(
            f"message {name}: unknown button {k!r}" for k in keys if k not in flow.labels
        )
    if problems:
        raise ValueError("bad walkthrough: " + "; ".join(problems))


def _words(text: str) -> str:
    """Lower case, no diacritics, words separated by single spaces."""
    return " ".join(re.findall(r"\w+", fold(text.lower())))


def to_mermaid(flow: Flow) -> str:
    """Render the flow as a Mermaid diagram (kept next to the YAML, checked by tests)."""
    lines = [
        "%% Generated from data/walkthrough.yml by `python -m bot walkthrough-diagram`.",
        "flowchart TD",
    ]
    for step in flow.steps.values():
        lines.append(f'    {step.name}["{step.name}"]')
    for step in flow.steps.values():
        for b in step.buttons:
            label = b.title.replace('"', "'")
            target = b.next or ("handoff" if b.payload == HANDOFF_PAYLOAD else "other")
            lines.append(f'    {step.name} -->|"{label}"| {target}')
        if step.fix:
            lines.append(f'    {step.name} -.->|"{flow.labels["error"]}"| fix_{step.fix}')
    for fix in sorted({s.fix for s in flow.steps.values() if s.fix}):
        lines.append(f'    fix_{fix}(["fix: {fix}"]) -.->|"{flow.labels["retry"]}"| retry((retry))')
        lines.append(f'    fix_{fix} -.->|"{flow.labels["officer"]}"| handoff')
    lines.append('    handoff[["officer (handoff)"]]')
    lines.append("    retry -.-> same_step[/the same step/]")
    return "\n".join(lines) + "\n"
