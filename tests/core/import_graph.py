"""Import loops between two modules, found in the real import graph (grimp, as import-linter).

Run as a script (``python tests/core/import_graph.py PACKAGE...``) it prints the loops as JSON:
the tests run it in a child process, so that the packages it reads are the ones first on that
process's ``PYTHONPATH`` (a planted copy or the working tree), not the ones already imported.
"""

from __future__ import annotations

import json
import sys

import grimp


def two_module_cycles(*packages: str) -> list[tuple[str, str]]:
    """Every pair of modules that import each other, directly, anywhere in their code.

    Imports inside functions and under ``TYPE_CHECKING`` count: a loop hidden in a function
    still ties the two modules together.
    """
    graph = grimp.build_graph(*packages, cache_dir=None)
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            if importer in graph.find_modules_directly_imported_by(imported):
                cycles.add(tuple(sorted((importer, imported))))
    return sorted(cycles)  # type: ignore[arg-type]


if __name__ == "__main__":
    print(json.dumps(two_module_cycles(*sys.argv[1:])))
