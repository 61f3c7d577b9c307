"""Command line of the app: ``python -m bot <command>``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.accounts import service as accounts_service
from bot.config import PROJECT_ROOT, get_settings
from bot.db import Database, create_engine_from_url, session_scope, utcnow
from bot.faq import content
from bot.handoff import officers
from bot.modelops import artefacts
from bot.modelops.serving import point_start_model
from bot.privacy import retention
from bot.process import PRIVATE_UMASK, make_private
from bot.seed import WALKTHROUGH_FILE, seed_database
from bot.walkthrough.flow import load_flow, to_mermaid

logger = logging.getLogger(__name__)

NLU_FILE = PROJECT_ROOT / "data" / "nlu" / "faq.yml"
RASA_BIN = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"


def init_env(path: Path) -> None:
    """Write a .env with fresh random secrets, unless one exists."""
    if path.exists():
        return
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    path.write_text(
        "# Created by `python -m bot init-env`: local secrets, never commit.\n"
        "ENVIRONMENT=development\n"
        f"DATABASE_URL=sqlite:///{PROJECT_ROOT / 'var' / 'vneid.db'}\n"
        f"SECRET_KEY={secrets.token_urlsafe(32)}\n"
        f"RASA_TOKEN={secrets.token_urlsafe(24)}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    print(f"Created {path} with random secrets.")  # noqa: T201


def export_nlu(check: bool) -> int:
    """Write Rasa's FAQ training file from data/faq; with --check, only compare."""
    rendered = content.render_nlu_file(content.load_topics(PROJECT_ROOT / "data" / "faq"))
    current = NLU_FILE.read_text(encoding="utf-8") if NLU_FILE.exists() else ""
    if check:
        if current != rendered:
            print("data/nlu/faq.yml is out of date: run `make nlu-data`.")  # noqa: T201
            return 1
        return 0
    if current != rendered:
        NLU_FILE.write_text(rendered, encoding="utf-8")
        print("Wrote data/nlu/faq.yml")  # noqa: T201
    return 0


def init_db() -> None:
    """Migrate the database, load the seed texts, create the first admin."""
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    engine = create_engine_from_url(settings.database_url)
    with session_scope(sessionmaker(engine)) as session:
        topics, responses, updated = seed_database(session=session, root=settings.project_root)
        password = accounts_service.create_first_admin(session=session)
    seed_model = artefacts.model_path(settings.project_root)
    if seed_model.exists():  # docker-compose.yml starts Rasa with models/live.tar.gz
        with session_scope(sessionmaker(engine)) as session:
            model = point_start_model(settings, session, seed_model)
        print(f"Rasa starts with {model.name} (models/live.tar.gz)")  # noqa: T201
    engine.dispose()
    print(  # noqa: T201
        f"Database ready ({topics} new topics, {responses} new responses,"
        f" {updated} unedited texts brought up to the reviewed seed)."
    )
    if password:
        print(  # noqa: T201
            "\n=== First start: admin account created ===\n"
            f"  user: admin\n  password: {password}\n"
            "  (shown only this once: keep it somewhere safe)\n"
        )


def run(args: argparse.Namespace) -> int:
    """Start Rasa, the action server and the app; stop all on Ctrl-C."""
    from bot.stack import Stack, StackConfig

    settings = get_settings()
    make_private(PROJECT_ROOT / "var")  # databases and logs of an older install: 0600
    seed_model = artefacts.ensure_model(PROJECT_ROOT, RASA_BIN)
    engine = create_engine_from_url(settings.database_url)
    with session_scope(sessionmaker(engine)) as session:
        model = point_start_model(settings, session, seed_model)
    engine.dispose()
    if model != seed_model:
        print(f"Starting with the model published from the console: {model.name}")  # noqa: T201
    env = {"RASA_TOKEN": settings.rasa_token.get_secret_value()}
    stack = Stack(
        StackConfig(
            model=model,
            env=env,
            app_port=args.port,
            rasa_ports=[args.rasa_port + i for i in range(settings.rasa_replicas)],
            actions_port=args.actions_port,
            tracker_url=settings.rasa_tracker_url,
            redis_url=settings.redis_url,
            app_workers=settings.app_workers,
            log_dir=PROJECT_ROOT / "var" / "log",
        )
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start()
        print(  # noqa: T201
            f"\nTrợ lý VNeID is running: web chat http://127.0.0.1:{args.port}/ , "
            f"admin http://127.0.0.1:{args.port}/admin\n"
            f"Logs: {PROJECT_ROOT / 'var' / 'log'}. Stop with Ctrl-C.\n"
        )
        return stack.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def officer_command(args: argparse.Namespace) -> int:
    """Run one ``officer`` sub-command against the configured database."""
    factory = sessionmaker(create_engine_from_url(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            if args.action == "add":
                o = officers.add_officer(
                    session,
                    name=args.name,
                    telegram_id=args.telegram_id,
                    commune=args.commune,
                    supervisor=args.supervisor,
                )
                print(f"Đã lưu cán bộ {o.name} ({o.telegram_user_id}).")  # noqa: T201
            elif args.action == "remove":
                officers.remove_officer(session, telegram_id=args.telegram_id)
                print("Đã cho nghỉ.")  # noqa: T201
            elif args.action == "group":
                place = officers.set_group(session, commune=args.commune, chat_id=args.chat_id)
                print(f"{place.unit_type} {place.name}: nhóm {place.officer_chat_id or 'không'}.")  # noqa: T201
            else:
                print("\n".join(officers.list_officers(session)) or "Chưa có cán bộ nào.")  # noqa: T201
    except officers.OfficerError as exc:
        print(exc, file=sys.stderr)  # noqa: T201
        return 2
    return 0


def purge() -> int:
    """Purge conversation content older than RETENTION_DAYS, from both databases."""
    settings = get_settings()
    engine = create_engine_from_url(settings.database_url)
    purger = retention.Purger(
        Database(sessionmaker(engine), threads=1),
        days=settings.retention_days,
        tracker_url=settings.tracker_url,
        every=timedelta(0),
        clock=utcnow,
    )
    try:
        print(f"Purged: {asyncio.run(purger.run())}")  # noqa: T201
    finally:
        purger.close()
        engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    os.umask(PRIVATE_UMASK)  # the databases, logs and .env it creates are the user's only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its URLs may carry the Rasa token
    parser = argparse.ArgumentParser(prog="python -m bot")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-env", help="create .env with random secrets if missing")
    p_nlu = sub.add_parser("export-nlu", help="write data/nlu/faq.yml from data/faq")
    p_nlu.add_argument("--check", action="store_true")
    sub.add_parser("init", help="migrate the database, seed texts, create the admin")
    sub.add_parser("walkthrough-diagram", help="write data/walkthrough.mmd from the flow")
    p_model = sub.add_parser("model", help="print the model path, training it if needed")
    p_model.add_argument("--config", default="config.yml")
    p_model.add_argument("--force", action="store_true", help="train even if it exists")
    p_run = sub.add_parser("run", help="start Rasa, the action server and the app")
    p_run.add_argument("--port", type=int, default=8000)
    p_run.add_argument("--rasa-port", type=int, default=5005)
    p_run.add_argument("--actions-port", type=int, default=5055)
    p_off = sub.add_parser("officer", help="manage officers and commune alert groups")
    off = p_off.add_subparsers(dest="action", required=True)
    o_add = off.add_parser("add", help="add or update an officer")
    o_add.add_argument("--name", required=True)
    o_add.add_argument("--telegram-id", type=int, required=True)
    o_add.add_argument("--commune", help='the new commune, e.g. "xã Xốp"')
    o_add.add_argument("--supervisor", action="store_true", help="province level")
    o_rm = off.add_parser("remove", help="deactivate an officer")
    o_rm.add_argument("--telegram-id", type=int, required=True)
    off.add_parser("list", help="list the officers")
    sub.add_parser("purge", help="purge conversations older than RETENTION_DAYS now")
    o_grp = off.add_parser("group", help="send a commune's alerts to a Telegram group")
    o_grp.add_argument("--commune", required=True)
    o_grp.add_argument("--chat-id", type=int, help="omit to go back to private chats")
    args = parser.parse_args(argv)

    if args.command == "init-env":
        init_env(PROJECT_ROOT / ".env")
        return 0
    if args.command == "export-nlu":
        return export_nlu(args.check)
    if args.command == "init":
        init_db()
        return 0
    if args.command == "walkthrough-diagram":
        flow = load_flow(PROJECT_ROOT / WALKTHROUGH_FILE)
        (PROJECT_ROOT / "data" / "walkthrough.mmd").write_text(to_mermaid(flow), encoding="utf-8")
        return 0
    if args.command == "officer":
        return officer_command(args)
    if args.command == "purge":
        return purge()
    if args.command == "model":
        target = artefacts.ensure_model(
            PROJECT_ROOT, RASA_BIN, config=args.config, force=args.force
        )
        print(target)  # noqa: T201
        return 0
    return run(args)
