"""NCCID Desktop: feed the National COVID-19 Chest Imaging Database from a hospital workstation.

The package is split in two on purpose: a Qt-free core (identifiers, pseudonyms, sheets,
dicom, transport, collector, config, cli) that runs and is tested without a display, and a
thin Qt layer in :mod:`nccid_desktop.gui` that only wires widgets to that core.
"""

from __future__ import annotations

__version__ = "0.1.0"
