"""``nccid keys``: site key files for offline and test use."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    keys = subparsers.add_parser("keys", help="make site key files (offline and test use)")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    actions.required = True
    generate = actions.add_parser(
        "generate",
        help="write a new site key file and, separately, the data controller's private key",
    )
    generate.add_argument("--site", required=True, help="site code, e.g. RSH")
    generate.add_argument("-o", "--output", required=True, type=Path, help="site key file to write")
    generate.add_argument(
        "--controller-key", type=Path,
        help="where to write the controller's private key (default: OUTPUT.controller.pem)",
    )
    generate.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from nccid_desktop.keys import generate_site_keys, save_key_file, write_secret_file

    keys, private_pem = generate_site_keys(args.site)
    controller_path = args.controller_key or args.output.with_name(
        args.output.name + ".controller.pem"
    )
    save_key_file(keys, args.output)
    write_secret_file(controller_path, private_pem)
    print(f"Site key file for {keys.site} written to {args.output}")
    print(f"Data controller's private key written to {controller_path} "
          "(give it to the data controller only; the site never needs it)")
    return 0
