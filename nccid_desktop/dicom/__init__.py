"""DICOM work on the workstation, in sub-packages by job.

- :mod:`.codec`: reading and writing Part 10 bytes (element walk, header parser, encoder).
- :mod:`.scan`: finding DICOM files in what was dropped and reading their headers.
- :mod:`.select`: which scanned series to send, and the clinical date windows behind it.
- :mod:`.deid`: the PS3.15 profile and de-identifying files (byte editor, pydicom reference).
- :mod:`.verify`: the independent second check of every de-identified file.
- :mod:`.risk`: the burned-in text rule the scanner and the de-identifier share.

Why the package ``__init__`` files import nothing: ``nccid --help`` and the service import
one module at a time, and importing a sub-package must not pull in pydicom.
"""
