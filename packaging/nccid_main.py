"""Bundle entry point of the console command ``nccid`` (PyInstaller runs this script).

``multiprocessing.freeze_support()`` comes first: ``nccid deid`` starts worker processes by
re-running this executable.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from nccid_desktop.cli import main

    sys.exit(main())
