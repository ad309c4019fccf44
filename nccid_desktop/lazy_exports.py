"""Public names of a package loaded on first use, from the module that defines each.

Why: a package's ``__init__`` that imports its public names eagerly makes every caller pay for
the heaviest of them. The command parsers read template definitions without loading openpyxl
(``nccid_desktop.sheets``), and ``nccid-collector --help`` answers without FastAPI, uvicorn or
SQLAlchemy (``nccid_collector``). One rule serves both: PEP 562's module ``__getattr__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str], public: Iterable[str],
                 namespace: dict[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` for ``package``: ``homes`` maps each public name to
    the submodule defining it; a name is imported once, then kept in ``namespace``."""
    names = frozenset(public)

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
