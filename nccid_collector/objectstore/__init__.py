"""Where the warehouse objects live: a local folder or an S3 bucket, behind one interface.

``--storage`` takes a folder path or ``s3://bucket[/prefix]``; :func:`open_object_store`
turns it into an :class:`ObjectStore`. boto3 is imported only when an ``s3://`` address is
used, so a folder deployment (and the desktop app, which never imports this package) needs
no AWS library.
"""

from __future__ import annotations

import re
from pathlib import Path

from nccid_collector.objectstore.base import (
    ObjectMissing,
    ObjectStore,
    StorageConfigError,
    StorageError,
    StoredObject,
    check_key,
)
from nccid_collector.objectstore.folder import FolderStore

__all__ = ["FolderStore", "ObjectMissing", "ObjectStore", "StorageConfigError", "StorageError",
           "StoredObject", "check_key", "open_object_store", "parse_s3_address"]

#: S3 bucket naming rules (3-63 lowercase letters, digits, dots and hyphens).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._+=@-]*$")


def parse_s3_address(address: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket[/prefix]``, or StorageConfigError saying what is wrong."""
    rest = address[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise StorageConfigError("The S3 address must name a bucket: s3://BUCKET or "
                                 "s3://BUCKET/PREFIX (3 to 63 lowercase letters, digits, dots "
                                 "or hyphens).")
    if prefix and not all(_PREFIX_PART.fullmatch(part) for part in prefix.split("/")):
        raise StorageConfigError("The S3 prefix may hold letters, digits and ._+=@- in "
                                 "'/'-separated parts, none empty or starting with a dot.")
    return bucket, prefix


def open_object_store(address: str | Path) -> ObjectStore:
    """The store an address names: ``s3://bucket[/prefix]`` or a folder path."""
    text = str(address)
    if text.startswith("s3://"):
        bucket, prefix = parse_s3_address(text)
        from nccid_collector.objectstore.s3 import S3Store

        return S3Store(bucket, prefix)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StorageConfigError(f"Warehouse addresses of the form {scheme}:// are not "
                                 "supported: give a folder path or s3://BUCKET/PREFIX.")
    return FolderStore(Path(text))
