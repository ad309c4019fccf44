"""What the warehouse holds, read the way the NCCID loader would: without the service's code.

For the folder back end that is the folder itself; for S3 it is a boto3 client of the test's
own listing the bucket under the warehouse prefix. Keys are the raw layout's relative names
(``raw-RSH/2026-11-25/images/<uid>.dcm``) either way, so one test reads both back ends alike.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nccid_collector.objectstore import parse_s3_address


def _matches(key: str, pattern: str) -> bool:
    """Glob per path part (``*`` never crosses a ``/``), like ``Path.glob``."""
    parts, wanted = key.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(
        fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, wanted, strict=True))


@dataclass
class WarehouseView:
    folder: Path | None = None
    client: Any = None
    bucket: str = ""
    prefix: str = ""

    @classmethod
    def of(cls, address: str, s3_client: Any = None) -> WarehouseView:
        if address.startswith("s3://"):
            bucket, prefix = parse_s3_address(address)
            return cls(client=s3_client, bucket=bucket, prefix=prefix)
        return cls(folder=Path(address))

    @property
    def is_s3(self) -> bool:
        return self.client is not None

    def _all_keys(self) -> list[str]:
        if self.client is None:
            assert self.folder is not None
            found = []
            for dirpath, dirnames, filenames in os.walk(self.folder):
                relative = Path(dirpath).relative_to(self.folder)
                if relative == Path("."):
                    dirnames[:] = [d for d in dirnames if d.startswith("raw-")]
                    continue
                found += [(relative / name).as_posix() for name in filenames]
            return sorted(found)
        base = f"{self.prefix}/" if self.prefix else ""
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base):
            keys += [item["Key"][len(base):] for item in page.get("Contents", [])]
        return sorted(keys)

    def keys(self, pattern: str | None = None) -> list[str]:
        """Every object's key (matching ``pattern`` when given), sorted."""
        return [k for k in self._all_keys() if pattern is None or _matches(k, pattern)]

    def names(self, pattern: str) -> list[str]:
        return [key.rsplit("/", 1)[-1] for key in self.keys(pattern)]

    def read(self, key: str) -> bytes:
        if self.client is None:
            assert self.folder is not None
            return (self.folder / key).read_bytes()
        full = f"{self.prefix}/{key}" if self.prefix else key
        return self.client.get_object(Bucket=self.bucket, Key=full)["Body"].read()

    def contents(self) -> dict[str, bytes]:
        return {key: self.read(key) for key in self.keys()}

    def unfinished_uploads(self) -> list[str]:
        """Keys of multipart uploads begun and never completed (S3 only)."""
        if self.client is None:
            return []
        base = f"{self.prefix}/" if self.prefix else ""
        answer = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=base)
        return [u["Key"][len(base):] for u in answer.get("Uploads", []) or []]
