"""The independent second check of every de-identified file: what identifies, and where to look."""
