"""The warehouse in an S3 bucket (AWS or any S3-compatible store), through boto3.

Why these choices:
- Where and who come only from the standard AWS settings (``AWS_ENDPOINT_URL``, ``AWS_REGION``,
  ``AWS_ACCESS_KEY_ID`` ..., shared config files, instance and container roles): the service
  names a bucket and a prefix, never a credential, so nothing secret sits in its command line.
- Create-only writes use ``If-None-Match: *`` (on ``PutObject`` and on
  ``CompleteMultipartUpload``): the store itself refuses a second object under a key, so two
  replicas storing the same instance store it once. A store that ignores the condition would
  silently break the never-overwrite rule, so :meth:`S3Store.check` proves it at start.
- Large objects go up as multipart uploads streamed from the spool file one part at a time
  (memory stays at one part); an object becomes visible only when the upload is completed, so
  a crash mid-upload never lists a partial object. Abandoned uploads are aborted by
  :meth:`S3Store.sweep` (and by a bucket lifecycle rule, see docs/deployment.md).
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from nccid_collector.objectstore.base import (
    ObjectMissing,
    ObjectStore,
    StorageConfigError,
    StorageError,
    StoredObject,
    check_key,
    check_prefix,
)

log = logging.getLogger(__name__)

MIB = 1024 * 1024
#: S3 refuses parts under 5 MiB (except the last); 8 MiB keeps memory small and requests few.
DEFAULT_PART_SIZE = 8 * MIB
DEFAULT_MULTIPART_THRESHOLD = 16 * MIB
_TAKEN = {"PreconditionFailed", "412"}
_CONFLICT = {"ConditionalRequestConflict", "409"}
_MISSING = {"NoSuchKey", "404", "NotFound"}
_CONFLICT_RETRIES = 3
PROBE_PREFIX = ".nccid-probe-"


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> str:
    return str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def _is(error: ClientError, codes: set[str]) -> bool:
    return _code(error) in codes or _status(error) in codes


def default_client() -> Any:
    """An S3 client configured by the standard AWS settings (environment, files, roles).

    Clients are thread-safe and slow to build (~0.2 s), so one is shared per set of AWS
    environment settings for the life of the process. Retries: 5 attempts in boto3's
    "standard" mode unless ``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE`` say otherwise.
    """
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    return _shared_client(settings)


@functools.cache
def _shared_client(_aws_settings: tuple[tuple[str, str], ...]) -> Any:
    retries = {} if os.environ.get("AWS_MAX_ATTEMPTS") else {"max_attempts": 5}
    config = Config(retries={"mode": os.environ.get("AWS_RETRY_MODE", "standard"), **retries},
                    max_pool_connections=64, connect_timeout=10, read_timeout=120)
    return boto3.session.Session().client("s3", config=config)


class S3Store(ObjectStore):
    def __init__(self, bucket: str, prefix: str = "", *, client: Any = None,
                 part_size: int = DEFAULT_PART_SIZE,
                 multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client if client is not None else default_client()
        self.part_size = part_size
        self.multipart_threshold = max(multipart_threshold, part_size)

    @property
    def address(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, action: str, exc: Exception) -> StorageError:
        name = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        return StorageError(f"The warehouse bucket could not {action} ({name}). Try again later.")

    # -- start-up -------------------------------------------------------------------------

    def check(self) -> None:
        """Reachable, writable, and honouring create-only writes, or the service does not start."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            name = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            raise StorageConfigError(
                f"The warehouse bucket {self.address} cannot be reached ({name}). Check the "
                "bucket name and the AWS settings (AWS_ENDPOINT_URL, AWS_REGION, credentials or "
                "the instance role).") from None
        probe = f"{self.prefix}/{PROBE_PREFIX}{secrets.token_hex(8)}".lstrip("/")
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"1", IfNoneMatch="*")
            try:
                self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"2", IfNoneMatch="*")
                honoured = False
            except ClientError as exc:
                if not _is(exc, _TAKEN):
                    raise
                honoured = True
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except (ClientError, BotoCoreError) as exc:
            name = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            raise StorageConfigError(
                f"The warehouse bucket {self.address} cannot be written ({name}). The service "
                "needs to read, write, list and delete objects under its prefix.") from None
        if not honoured:
            raise StorageConfigError(
                f"The object store behind {self.address} ignores conditional writes "
                "(If-None-Match), so it could overwrite warehouse files. Use a store that "
                "supports them (AWS S3, SeaweedFS, MinIO and others do).")

    # -- writes ---------------------------------------------------------------------------

    def put_bytes_new(self, key: str, data: bytes) -> bool:
        return self._create_only(lambda: self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"), key)

    def put_file_new(self, key: str, source: Path) -> bool:
        full = self._key(key)
        size = Path(source).stat().st_size
        if size <= self.multipart_threshold:
            def single() -> None:
                with open(source, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=full, Body=body,
                                           ContentLength=size, IfNoneMatch="*")
            return self._create_only(single, key)
        return self._create_only(lambda: self._multipart(full, Path(source), only_new=True), key)

    def _create_only(self, write, key: str) -> bool:
        for _attempt in range(_CONFLICT_RETRIES):
            try:
                write()
                return True
            except ClientError as exc:
                if _is(exc, _TAKEN):
                    return False
                if not _is(exc, _CONFLICT):
                    raise self._fail("store an object", exc) from exc
                if self.exists(key):  # a concurrent writer finished first
                    return False
            except BotoCoreError as exc:
                raise self._fail("store an object", exc) from exc
        raise StorageError("The warehouse bucket kept refusing a write. Try again later.")

    def _multipart(self, full_key: str, source: Path, *, only_new: bool) -> None:
        """Upload ``source`` part by part; visible only once completed (aborted on any error)."""
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket,
                                                        Key=full_key)["UploadId"]
        try:
            parts = []
            with open(source, "rb") as reader:
                number = 1
                while chunk := reader.read(self.part_size):
                    answer = self.client.upload_part(Bucket=self.bucket, Key=full_key,
                                                     UploadId=upload_id, PartNumber=number,
                                                     Body=chunk)
                    parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                    number += 1
            condition = {"IfNoneMatch": "*"} if only_new else {}
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=full_key, UploadId=upload_id,
                MultipartUpload={"Parts": parts}, **condition)
        except BaseException:
            self._abort(full_key, upload_id)
            raise

    def _abort(self, full_key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full_key,
                                               UploadId=upload_id)
        except (ClientError, BotoCoreError) as exc:  # swept later; the object was never visible
            log.warning("Could not abort an unfinished upload (%s); it will be swept.",
                        type(exc).__name__)

    def replace_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("replace an object", exc) from exc

    def replace_file(self, key: str, source: Path) -> None:
        full = self._key(key)
        try:
            size = Path(source).stat().st_size
            if size <= self.multipart_threshold:
                with open(source, "rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=full, Body=body,
                                           ContentLength=size)
            else:
                self._multipart(full, Path(source), only_new=False)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("replace an object", exc) from exc

    # -- reads ----------------------------------------------------------------------------

    def _get(self, key: str) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as exc:
            if _is(exc, _MISSING):
                raise ObjectMissing("The warehouse holds no such object.") from None
            raise self._fail("read an object", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read an object", exc) from exc

    def get_bytes(self, key: str) -> bytes:
        body = self._get(key)
        try:
            return body.read()
        except BotoCoreError as exc:
            raise self._fail("read an object", exc) from exc
        finally:
            body.close()

    def download(self, key: str, destination: Path) -> None:
        body = self._get(key)
        try:
            with open(destination, "wb") as writer:
                for chunk in body.iter_chunks(MIB):
                    writer.write(chunk)
        except BotoCoreError as exc:
            raise self._fail("read an object", exc) from exc
        finally:
            body.close()

    def stat(self, key: str) -> StoredObject | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _is(exc, _MISSING):
                return None
            raise self._fail("read an object", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read an object", exc) from exc
        return StoredObject(key, int(head["ContentLength"]))

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        check_prefix(prefix)
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base + prefix)
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(base):]
                    if key and not any(part.startswith(".") for part in key.split("/")):
                        yield StoredObject(key, int(item["Size"]))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list objects", exc) from exc

    def delete(self, key: str) -> bool:
        existed = self.exists(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete an object", exc) from exc
        return existed

    # -- upkeep ---------------------------------------------------------------------------

    def unfinished_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        """(key, upload id, started) of multipart uploads under the prefix not yet completed."""
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=base)
        for page in pages:
            for upload in page.get("Uploads", []) or []:
                yield upload["Key"], upload["UploadId"], upload["Initiated"]

    def sweep(self, now: float, max_age_seconds: int) -> int:
        aborted = 0
        try:
            stale = [(key, upload_id) for key, upload_id, started in self.unfinished_uploads()
                     if now - started.timestamp() > max_age_seconds]
            for key, upload_id in stale:
                self._abort(key, upload_id)
                aborted += 1
        except (ClientError, BotoCoreError) as exc:
            log.warning("Could not list unfinished uploads (%s).", type(exc).__name__)
        return aborted
