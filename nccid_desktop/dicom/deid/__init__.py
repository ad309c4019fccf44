"""De-identification: the PS3.15 profile, the fast byte editor, the pydicom reference path, batches."""
