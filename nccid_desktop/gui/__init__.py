"""The thin Qt layer: the only package that imports PySide6.

Widgets here wire forms from ``ui/`` to core calls run in background workers; no validation,
de-identification or transport logic lives here.
"""
