"""``nccid keys``: site key files for offline and test use, and the data controller's key pair.

Key rotation (the data controller): ``controller-generate`` makes a new pair; the public key
goes to the service (``nccid-collector set-controller-key``), which hands it to sites at their
next sign-in; the old private key is kept, because tokens made before the rotation open only
with it (``nccid-collector linkage export`` takes several ``--private-key``).
"""

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

    controller = actions.add_parser(
        "controller-generate",
        help="the data controller: a new key pair (private key kept by the controller; the "
        "public key installed on the service with 'nccid-collector set-controller-key')")
    controller.add_argument("-o", "--output", required=True, type=Path,
                            help="private key file to write (PEM, readable by you only)")
    controller.add_argument("--public", type=Path,
                            help="public key file to write (default: OUTPUT.pub.pem)")
    controller.set_defaults(handler=_controller_generate)

    public = actions.add_parser(
        "controller-public", help="the data controller: export the public key of a private key")
    public.add_argument("--private-key", required=True, type=Path)
    public.add_argument("-o", "--output", required=True, type=Path)
    public.set_defaults(handler=_controller_public)


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


def _controller_generate(args: argparse.Namespace) -> int:
    from nccid_desktop.keys import generate_controller_keys, write_secret_file

    private_pem, public_pem = generate_controller_keys()
    public_path = args.public or args.output.with_name(args.output.stem + ".pub.pem")
    write_secret_file(args.output, private_pem)
    public_path.write_bytes(public_pem)
    print(f"Data controller's private key written to {args.output} (keep it, and keep every "
          "earlier one: older linkage tokens open only with the key of their time)")
    print(f"Public key written to {public_path}: install it on the service with "
          "'nccid-collector set-controller-key'")
    return 0


def _controller_public(args: argparse.Namespace) -> int:
    from nccid_desktop.keys import controller_public_key

    args.output.write_bytes(controller_public_key(args.private_key))
    print(f"Public key written to {args.output}")
    return 0
