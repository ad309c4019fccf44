"""NCCID Desktop: feed the National COVID-19 Chest Imaging Database from a hospital workstation.

The package is layered on purpose: a Qt-free core (identifiers, pseudonyms, sheets, dicom,
transport, config) that runs and is tested without a display; the use cases in
:mod:`nccid_desktop.workflows`, written once and also Qt-free; and two front ends that only
present them, :mod:`nccid_desktop.gui` (Qt) and :mod:`nccid_desktop.cli`. The collection
service is the sibling package ``nccid_collector``, which this package never imports.
"""

from __future__ import annotations

__version__ = "0.1.0"
