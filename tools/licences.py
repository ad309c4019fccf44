"""Collect the licence texts of every Python distribution shipped in the bundle.

Why generated at build time: the bundle holds whatever the build machine resolved (versions
move), and the notices must list exactly those, each with its own licence text, plus the Python
runtime itself. The PyInstaller spec passes the modules it collected; standalone, the script
follows ``nccid-desktop``'s requirements. Qt (PySide6) is LGPL: the notice says how the onedir
layout keeps its libraries replaceable, and carries the LGPL and GPL texts.

Usage: ``python tools/licences.py -o THIRD-PARTY-NOTICES.txt``.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LICENCE_TEXTS = ROOT / "packaging" / "licences"
OWN_DISTRIBUTION = "nccid-desktop"
LICENCE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*$", re.IGNORECASE)
QT_DISTRIBUTIONS = {"pyside6-essentials", "pyside6", "shiboken6"}
QT_NOTE = """\
Qt and PySide6 (Qt for Python) are used under the GNU Lesser General Public License v3
(LGPL-3.0); their full texts follow at the end of this file. NCCID Desktop is shipped as a
folder ("onedir"), so the Qt and PySide6 libraries stay separate, unmodified files
(_internal/PySide6 and _internal/shiboken6): you may replace them with your own build of the
same Qt/PySide6 version. Source code of Qt: https://download.qt.io/official_releases/qt/ ;
of PySide6: https://download.qt.io/official_releases/QtForPython/ .
"""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions_for_modules(modules: Iterable[str]) -> list[str]:
    """Distribution names providing the given module names (``a.b.c`` or ``a/b.so`` forms)."""
    by_top_level = metadata.packages_distributions()
    found: set[str] = set()
    for module in modules:
        top = re.split(r"[./\\]", module, maxsplit=1)[0]
        for dist in by_top_level.get(top, ()):
            found.add(dist)
    return sorted(found, key=_canonical)


def required_distributions(root: str = OWN_DISTRIBUTION) -> list[str]:
    """``root``'s run-time requirements, followed recursively (extras left out)."""
    seen: dict[str, str] = {}
    pending = [root]
    while pending:
        name = pending.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = _canonical(dist.metadata["Name"])
        if key in seen:
            continue
        seen[key] = dist.metadata["Name"]
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            pending.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return sorted(seen.values(), key=_canonical)


def _licence_texts(dist: metadata.Distribution) -> list[tuple[str, str]]:
    texts = []
    for file in dist.files or []:
        if LICENCE_FILE.search(str(file)) and file.suffix not in (".py", ".pyc", ".pyi"):
            try:
                texts.append((str(file), Path(str(dist.locate_file(file))).read_text(
                    encoding="utf-8", errors="replace")))
            except OSError:
                continue
    return texts


def _declared_licence(dist: metadata.Distribution) -> str:
    declared = dist.metadata.get("License-Expression") or dist.metadata.get("License") or ""
    if len(declared) > 200 or "\n" in declared:  # a whole licence pasted into the field
        declared = ""
    classifiers = [c.split(" :: ")[-1] for c in dist.metadata.get_all("Classifier") or []
                   if c.startswith("License ::")]
    return declared or ", ".join(classifiers) or "see the project's home page"


def _section(dist: metadata.Distribution) -> str:
    name, version = dist.metadata["Name"], dist.version
    home = dist.metadata.get("Home-page") or next(
        (u.split(",", 1)[-1].strip() for u in dist.metadata.get_all("Project-URL") or []), "")
    lines = ["=" * 78, f"{name} {version}", f"Licence: {_declared_licence(dist)}"]
    if home:
        lines.append(f"Home: {home}")
    if _canonical(name) in QT_DISTRIBUTIONS:
        lines += ["", QT_NOTE]
    for file_name, text in _licence_texts(dist):
        lines += ["", f"--- {file_name} ---", text.strip()]
    return "\n".join(lines) + "\n"


def _python_runtime() -> str:
    candidates = [Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
                  / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt"]
    text = next((p.read_text(encoding="utf-8", errors="replace") for p in candidates if p.is_file()),
                "Python Software Foundation License: https://docs.python.org/3/license.html")
    return "\n".join(["=" * 78, f"Python {sys.version.split()[0]} (the runtime in this bundle)",
                      "", text.strip()]) + "\n"


def notices(distributions: Iterable[str]) -> str:
    """The whole THIRD-PARTY-NOTICES text for ``distributions`` (our own package left out)."""
    dists = []
    for name in distributions:
        if _canonical(name) == OWN_DISTRIBUTION:
            continue
        try:
            dists.append(metadata.distribution(name))
        except metadata.PackageNotFoundError:
            continue
    dists.sort(key=lambda d: _canonical(d.metadata["Name"]))
    header = ("NCCID Desktop: third-party software notices\n\n"
              "This program includes the following third-party software, each under its own\n"
              "licence, reproduced below as shipped by its authors. Shared libraries of the\n"
              "build machine's operating system (for example OpenSSL) are under their own\n"
              "licences.\n\nIncluded: "
              + ", ".join(f"{d.metadata['Name']} {d.version}" for d in dists) + ", Python.\n")
    parts = [header, *(_section(d) for d in dists), _python_runtime()]
    if any(_canonical(d.metadata["Name"]) in QT_DISTRIBUTIONS for d in dists):
        for text in sorted(LICENCE_TEXTS.glob("*.txt")):
            parts.append("\n".join(["=" * 78, f"Full text: {text.stem}", "",
                                    text.read_text(encoding="utf-8").strip()]) + "\n")
    return "\n".join(parts)


def write_notices(path: Path, distributions: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notices(distributions), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path("THIRD-PARTY-NOTICES.txt"))
    args = parser.parse_args(argv)
    path = write_notices(args.output, required_distributions())
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
