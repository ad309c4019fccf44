"""``nccid-collector``: run and administer the collection service (also ``nccid collector``).

Why passwords only from a prompt or ``NCCID_NEW_PASSWORD``: a password on the command line
ends up in shell history and process lists. Why the master key file can come from
``NCCID_COLLECTOR_MASTER_KEY_FILE``: a service manager sets it once for every command, so
``serve`` and the administration commands cannot drift apart (``--master-key-file`` wins).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from nccid_collector.cli_admin import register_admin_commands
from nccid_collector.cli_takeback import register_takeback_commands
from nccid_desktop.errors import ConfigError, NccidError
from nccid_desktop.logsafe import scrub

PASSWORD_ENV = "NCCID_NEW_PASSWORD"
MASTER_KEY_ENV = "NCCID_COLLECTOR_MASTER_KEY_FILE"
#: What ``pip install 'nccid-desktop[service]'`` adds; without them only this message runs.
UNEXPECTED_EXIT = 70
#: The service logs its own lines, the core rules' it runs and the libraries' (warnings
#: included: :mod:`.library_output`), to its own file.
SERVICE_LOGGERS = ("nccid_collector", "nccid_desktop", "py.warnings", "pydicom", "uvicorn")
SERVICE_LOG_FILE = "nccid-collector.log"
SERVICE_DEPENDENCIES = frozenset({"fastapi", "uvicorn", "sqlalchemy", "starlette", "psycopg",
                                  "psycopg2", "boto3", "botocore"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nccid-collector",
        description="The NCCID collection service: receives pseudonymised clinical records and "
        "de-identified images from NCCID Desktop and stores them in the warehouse layout.")
    actions = parser.add_subparsers(dest="collector_command", metavar="ACTION")
    actions.required = True

    def with_storage(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--data", required=True, type=Path,
                            help="the service's own folder: logs, upload spool, and by default "
                            "the warehouse, the SQLite file and the master key")
        parser.add_argument("--db", help="database URL (default: SQLite in the data folder; "
                            "or postgresql://user@host:port/name)")
        parser.add_argument("--storage", metavar="PATH_OR_S3_URL",
                            help="where the warehouse raw layout is kept: a folder, or "
                            "s3://BUCKET/PREFIX (endpoint, region and credentials from the "
                            "standard AWS settings: AWS_ENDPOINT_URL, AWS_REGION, "
                            "AWS_ACCESS_KEY_ID... or the instance role); default: the data "
                            "folder")
        parser.add_argument("--master-key-file", type=Path, metavar="PATH",
                            help="the key that seals the sites' pseudonym keys; keep it and its "
                            f"backup apart from the database (default: ${MASTER_KEY_ENV}, else "
                            "collector-master.key in the data folder, created on first start)")
        return parser

    serve = with_storage(actions.add_parser("serve", help="serve the HTTP API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--demo", action="store_true",
                       help="create the demo site, user and controller key if missing")
    serve.add_argument("--api-docs", action="store_true",
                       help="serve the OpenAPI document (/openapi.json) and page (/docs), to "
                       "signed-in users only (off by default)")
    serve.add_argument("--ready-file", type=Path, metavar="PATH",
                       help="once listening, write the address (and, with --demo, the demo "
                       "account) to this JSON file: how NCCID Desktop's demo mode finds a "
                       "service started on --port 0")
    serve.set_defaults(handler=_serve)

    site = with_storage(actions.add_parser("add-site", help="register a site and issue its key"))
    site.add_argument("code", help="site code, e.g. RSH")
    site.add_argument("--name", required=True, help="the site's name, shown to its users")
    site.add_argument("--controller-key", type=Path,
                      help="the data controller's public key (PEM); needed once per service")
    site.set_defaults(handler=_add_site)

    user = with_storage(actions.add_parser("add-user", help="create a user of a site"))
    user.add_argument("username")
    user.add_argument("--site", required=True)
    user.add_argument("--role", action="append", required=True,
                      help="nurse, imaging or admin (repeat, or separate with commas)")
    user.add_argument("--must-change", action="store_true",
                      help="make the user choose a new password at first sign-in")
    user.set_defaults(handler=_add_user)

    reset = with_storage(actions.add_parser(
        "reset-password", help="set a temporary password (changed at next sign-in)"))
    reset.add_argument("username")
    reset.set_defaults(handler=_reset_password)

    register_admin_commands(actions, with_storage, _open)
    register_takeback_commands(actions, with_storage, _open)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors are plain messages and exit codes, never tracebacks."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in SERVICE_DEPENDENCIES:
            print("nccid-collector: the collection service's libraries are not installed: "
                  "pip install 'nccid-desktop[service]'", file=sys.stderr)
            return 2
        raise
    except NccidError as error:
        print(f"nccid-collector: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last line of defence: explain, log, never a traceback
        logging.getLogger(__name__).exception("Unexpected failure in 'nccid-collector %s'",
                                              args.collector_command)
        print(scrub(f"nccid-collector: something unexpected went wrong "
                    f"({type(error).__name__}); details are in the service's log."),
              file=sys.stderr)
        return UNEXPECTED_EXIT


def _settings(args: argparse.Namespace):
    """The service settings from the options; the master key file: option > environment."""
    from nccid_collector import ServiceSettings

    from_env = os.environ.get(MASTER_KEY_ENV, "").strip()
    master_key_file = args.master_key_file or (Path(from_env) if from_env else None)
    return ServiceSettings(data_dir=args.data, db_url=args.db, storage=args.storage,
                           master_key_file=master_key_file)


def _open(args: argparse.Namespace):
    from nccid_collector import open_service

    return open_service(_settings(args))


def _new_password() -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise ConfigError(f"Type the new password at the prompt, or set {PASSWORD_ENV}.")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("Repeat the new password: "):
        raise ConfigError("The two passwords differ. Nothing was changed.")
    return first


def _serve(args: argparse.Namespace) -> int:
    from nccid_collector import serve
    from nccid_desktop.logsafe import configure_logging

    ready: dict[str, str] = {}
    if args.demo:
        from nccid_collector.demo import ensure_demo

        service = _open(args)
        try:
            account = ensure_demo(service)
        finally:
            service.close()
        ready.update(site=account.site, username=account.username, password=account.password)
        print(f"Demo site {account.site}: sign in as '{account.username}' with password "
              f"'{account.password}'.")
    log_path = configure_logging(args.data / "logs", loggers=SERVICE_LOGGERS,
                                 file_name=SERVICE_LOG_FILE)

    def listening(url: str) -> None:
        print(f"Collection service on {url} (log: {log_path}). Press Ctrl+C to stop.",
              flush=True)
        if args.ready_file:
            _write_ready_file(args.ready_file, {"url": url, **ready})

    settings = _settings(args)
    settings.api_docs = args.api_docs
    serve(settings, args.host, args.port, on_listening=listening)
    return 0


def _write_ready_file(path: Path, content: dict[str, str]) -> None:
    """Written whole under a temporary name, then renamed: a reader never sees half of it."""
    from nccid_desktop.keys import write_secret_file

    write_secret_file(path, json.dumps(content).encode("utf-8"))


def _add_site(args: argparse.Namespace) -> int:
    from nccid_collector import accounts

    service = _open(args)
    try:
        if args.controller_key:
            try:
                pem = args.controller_key.read_bytes()
            except OSError as exc:
                raise ConfigError(f"The key file {args.controller_key.name} cannot be read.") from exc
            accounts.set_controller_key(service.db, pem)
        code = accounts.add_site(service.db, service.settings, args.code, args.name,
                                 master_key=service.master_key)
    finally:
        service.close()
    print(f"Site {code} added; its pseudonym key is issued to its users at sign-in.")
    return 0


def _add_user(args: argparse.Namespace) -> int:
    from nccid_collector import accounts

    roles = [r for value in args.role for r in value.split(",")]
    password = _new_password()
    service = _open(args)
    try:
        accounts.add_user(service.db, service.settings, args.username, args.site, roles,
                          password, must_change=args.must_change)
    finally:
        service.close()
    print(f"User {args.username} added to site {args.site.upper()}.")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    from nccid_collector import accounts

    password = _new_password()
    service = _open(args)
    try:
        accounts.reset_password(service.db, service.settings, args.username, password)
    finally:
        service.close()
    print(f"Password of {args.username} reset; they must choose a new one at next sign-in.")
    return 0
