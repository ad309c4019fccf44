"""Bundle entry point of the windowed app ``nccid-desktop`` (PyInstaller runs this script).

Why this wrapper: ``multiprocessing.freeze_support()`` must run before anything else, because
the de-identifier's worker processes are started by re-running this very executable; and a
windowed build (Windows) has no ``sys.stdout``/``sys.stderr``, which would make any library
that writes to them raise, so they point at the null device instead.
"""

import multiprocessing
import os
import sys


def _give_missing_streams() -> None:
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


if __name__ == "__main__":
    multiprocessing.freeze_support()
    _give_missing_streams()
    from nccid_desktop.gui.app import main

    sys.exit(main())
