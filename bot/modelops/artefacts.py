"""Model files: the fingerprint of the training inputs, ``rasa train``, pruning, the live link."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from pathlib import Path

from bot.config import PROJECT_ROOT

logger = logging.getLogger(__name__)

__all__ = [
    "LIVE_LINK",
    "TRAINING_DATA",
    "ensure_model",
    "file_digest",
    "fingerprint",
    "model_path",
    "point_live_link",
    "prune_models",
    "rasa_env",
    "train",
    "train_command",
]

TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")
_INPUTS = ("config.yml", "domain.yml", *TRAINING_DATA, "nlu", "requirements/rasa.lock")
_SUFFIXES = {".yml", ".yaml", ".py", ".lock"}
# Code under nlu/ that Rasa runs while serving (endpoints.yml, credentials.yml), not training.
_SERVING_ONLY = {"nlu/serving.py", "nlu/tracker_store.py", "nlu/channel.py"}
LIVE_LINK = "live.tar.gz"  # what a deployment's Rasa loads at start (docker-compose.yml)


def _input_files(root: Path, inputs: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for name in inputs:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
    return sorted(f for f in files if f.relative_to(root).as_posix() not in _SERVING_ONLY)


def fingerprint(root: Path = PROJECT_ROOT, config: str = "config.yml") -> str:
    """Hash every file that shapes the trained model."""
    digest = hashlib.sha256()
    inputs = (config, *_INPUTS[1:])
    for path in _input_files(root, inputs):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def model_path(root: Path = PROJECT_ROOT, config: str = "config.yml") -> Path:
    """Path of the model trained from the current inputs (it may not exist yet)."""
    stem = "vneid" if config == "config.yml" else Path(config).stem.replace(".", "-")
    return root / "models" / f"{stem}-{fingerprint(root, config)}.tar.gz"


# A Rasa server multiplies one message's small vectors at a time. With numpy's BLAS at its
# default (a thread per core), its worker thread spun after every product: on this 2-core
# machine it burnt 0.4-0.6 of a core beside Rasa's own (12 citizens in a closed loop through
# the chat API: Rasa 1.38 cores at 53 turns/s with it, 0.79 at 84 without). TensorFlow's
# own thread pools made no difference.
SERVING_ENV = {"OPENBLAS_NUM_THREADS": "1"}


def rasa_env(root: Path = PROJECT_ROOT, *, serving: bool = False) -> dict[str, str]:
    """Environment for Rasa processes: our components importable, TF quiet.

    ``serving``: for ``rasa run`` (``SERVING_ENV``, unless the environment sets them).
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    if serving:
        for name, value in SERVING_ENV.items():
            env.setdefault(name, value)
    return env


def train_command(root: Path, rasa_bin: Path, *, config: str, out: Path) -> list[str]:
    """``rasa train`` of the data under ``root`` into the model file ``out``."""
    data = [d for d in TRAINING_DATA if (root / d).exists()]
    return [
        str(rasa_bin),
        "train",
        "--config",
        config,
        "--domain",
        "domain.yml",
        "--data",
        *data,
        "--out",
        str(out.parent),
        "--fixed-model-name",
        out.name.removesuffix(".tar.gz"),
    ]


def train(
    root: Path,
    rasa_bin: Path,
    *,
    config: str = "config.yml",
    out: Path,
    extra_env: dict[str, str] | None = None,
    quiet: bool = False,
) -> Path:
    """Train a model from scratch into ``out`` and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = train_command(root, rasa_bin, config=config, out=out)
    logger.info("Training %s", out.name)
    env = {**rasa_env(root), **(extra_env or {})}
    subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=quiet)  # noqa: S603
    return out


def ensure_model(
    root: Path, rasa_bin: Path, *, config: str = "config.yml", force: bool = False
) -> Path:
    """Return the model for the current inputs, training it only when missing (or forced)."""
    target = model_path(root, config)
    if target.exists() and not force:
        logger.info("Model %s is up to date; not retraining", target.name)
        return target
    train(root, rasa_bin, config=config, out=target)
    prune_models(target)
    return target


def prune_models(current: Path, keep: int = 2) -> list[Path]:
    """Delete older models of the same config, keeping the newest ``keep`` (for rollback)."""
    stem = current.name.rsplit("-", 1)[0]
    siblings = sorted(
        current.parent.glob(f"{stem}-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    removed = [p for p in siblings if p != current][max(0, keep - 1) :]
    for path in removed:
        path.unlink()
    return removed


def point_live_link(models_dir: Path, model: Path) -> None:
    """Make ``models/live.tar.gz`` point at ``model`` (atomically)."""
    link = models_dir / LIVE_LINK
    tmp = models_dir / f".{LIVE_LINK}.tmp"
    tmp.unlink(missing_ok=True)
    target = os.path.relpath(model, models_dir)
    tmp.symlink_to(target)
    tmp.replace(link)


def file_digest(path: Path) -> str:
    """Short hash of a file (which evaluation file a score belongs to)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
