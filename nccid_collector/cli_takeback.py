"""Administration commands that take data back or open it for the data controller:
``set-retention``, ``purge``, ``set-controller-key`` and ``linkage export``.

Why the audit names the operating-system user: these commands run on the service's host,
outside any web session; the audit trail still says who ran them (``cli:<user>``).
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from nccid_desktop.errors import ConfigError

Opener = Callable[[argparse.Namespace], Any]


def operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli:(unknown)"


def register_takeback_commands(actions: Any, with_storage: Callable[[argparse.ArgumentParser],
                               argparse.ArgumentParser], opener: Opener) -> None:
    retention = with_storage(actions.add_parser(
        "set-retention", help="set how many days raw data is kept (shown in the summary)"))
    retention.add_argument("days", nargs="?", type=int, help="days from the upload date")
    retention.add_argument("--clear", action="store_true", help="no retention period")
    retention.set_defaults(handler=partial(_set_retention, opener))

    purge = with_storage(actions.add_parser(
        "purge", help="remove raw data uploaded before the retention period (audited)"))
    purge.add_argument("--older-than", type=int, metavar="DAYS",
                       help="days (default: the retention period set with set-retention)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would go")
    purge.set_defaults(handler=partial(_purge, opener))

    controller = with_storage(actions.add_parser(
        "set-controller-key", help="install a new data controller public key (key rotation)"))
    controller.add_argument("public_key", type=Path, help="the controller's new public key (PEM)")
    controller.set_defaults(handler=partial(_set_controller_key, opener))

    linkage = actions.add_parser("linkage", help="the data controller's linkage export")
    linkage_actions = linkage.add_subparsers(dest="linkage_command", metavar="ACTION")
    linkage_actions.required = True
    export = with_storage(linkage_actions.add_parser(
        "export", help="open the linkage tokens: pseudonym,nhs_or_chi_number,site (CSV)"))
    export.add_argument("--private-key", type=Path, action="append", required=True,
                        metavar="CONTROLLER.pem", help="the controller's private key, read for "
                        "this export only; repeat to add keys from before a rotation")
    export.add_argument("--site", required=True)
    export.add_argument("-o", "--output", type=Path, required=True)
    export.set_defaults(handler=partial(_linkage_export, opener))


def _set_retention(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector.retention import set_retention_days

    if (args.days is None) == (not args.clear):
        raise ConfigError("Give the number of days, or --clear.")
    service = opener(args)
    try:
        set_retention_days(service.db, service.settings, None if args.clear else args.days,
                           operator())
    finally:
        service.close()
    print("Retention cleared: nothing is purged." if args.clear else
          f"Retention set to {args.days} days from the upload date.")
    return 0


def _purge(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector.retention import purge, retention_days

    service = opener(args)
    try:
        in_force = retention_days(service.db)
        days = args.older_than or in_force
        if days is None:
            raise ConfigError("No retention period is set: give --older-than DAYS, or set one "
                              "with 'nccid-collector set-retention DAYS'.")
        report = purge(service.db, service.store, service.settings, older_than=days,
                       dry_run=args.dry_run, username=operator())
    finally:
        service.close()
    print(f"Retention in force: {f'{in_force} days' if in_force else 'not set'}.")
    verb = "Would remove" if report.dry_run else "Removed"
    print(f"{verb} everything uploaded before {report.cutoff} (older than {days} days): "
          f"{report.records} record versions, {report.images} images, {report.files} files.")
    return 0


def _set_controller_key(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector import accounts, audit

    try:
        pem = args.public_key.read_bytes()
    except OSError as exc:
        raise ConfigError(f"The key file {args.public_key.name} cannot be read.") from exc
    service = opener(args)
    try:
        accounts.set_controller_key(service.db, pem)
        audit.record(service.db, service.settings.now(), operator(), None,
                     "controller_key_set", "ok")
    finally:
        service.close()
    print("The data controller's new public key is installed; sites receive it at their next "
          "sign-in. Keep the old private key: records sent before now open only with it.")
    return 0


def _linkage_export(opener: Opener, args: argparse.Namespace) -> int:
    from nccid_collector.linkage import export_linkage, load_private_keys

    keys = load_private_keys(args.private_key)
    service = opener(args)
    try:
        done = export_linkage(service.db, service.settings, site=args.site, private_keys=keys,
                              output=args.output, username=operator())
    finally:
        service.close()
    print(f"{done.rows} records linked, written to {args.output.name}.")
    if done.unopened:
        print(f"{done.unopened} records have tokens none of these keys opens (made under "
              "another controller key): add that key with another --private-key.")
        return 1
    return 0
