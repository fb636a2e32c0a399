"""Uploaded files on disk: bounded while they arrive, atomic when they are stored.

- While a body arrives, `LimitedUploadHandler` writes the file to `MEDIA_ROOT/incoming/` and
  stops at the size limit (or on a full disk), closing and removing what it had written.
- A stored video is first a temporary file in `incoming/` and is moved to its generated name
  inside the transaction that creates its row, as the transaction's last step (a rename on the
  same disk); any failure removes it. A process killed in between leaves at most a temporary
  file or a file without a row, both found and removed by `manage.py media_check`.
- A full disk is `StorageFull`, answered 507, with nothing left open or half-written.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.move import file_move_safe
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

INCOMING_DIR = "incoming"
FULL_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
CHUNK = 1024 * 1024


class StorageFull(Exception):
    """The disk (or quota) is full: the upload was refused and nothing of it kept."""

    message = "The server has no room to store this upload right now. Please try again later."


def incoming_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / INCOMING_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL_DISK_ERRNOS


# --- While the body arrives -------------------------------------------------------------------


class IncomingUploadedFile(TemporaryUploadedFile):
    """A temporary upload file in MEDIA_ROOT/incoming (the media disk: moving it is a rename)."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        suffix = Path(name or "").suffix[:16]
        file = tempfile.NamedTemporaryFile(suffix=".upload" + suffix, dir=incoming_dir())
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Streams each file to disk and stops as soon as it passes `limit` bytes or the disk is
    full: the partial file is closed and removed, and `request.upload_refused` says why
    ("too_large" or "disk_full") for the view to answer."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def new_file(self, *args, **kwargs):
        super(TemporaryFileUploadHandler, self).new_file(*args, **kwargs)
        try:
            self.file = IncomingUploadedFile(
                self.file_name, self.content_type, 0, self.charset, self.content_type_extra
            )
        except OSError as exc:
            if is_disk_full(exc):
                self._refuse("disk_full")
            raise

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse("too_large")
        try:
            self.file.write(raw_data)
        except OSError as exc:
            if is_disk_full(exc):
                self._refuse("disk_full")
            raise

    def _refuse(self, reason: str):
        if self.request is not None:
            self.request.upload_refused = reason
        if getattr(self, "file", None) is not None:
            try:
                self.file.close()  # a NamedTemporaryFile: closing removes it (closing twice,
            except OSError:  # as the parser does next, is harmless)
                pass
        raise StopUpload(connection_reset=True)


# --- Storing ----------------------------------------------------------------------------------


def stage(uploaded_file) -> tuple[Path, bool]:
    """A file on the media disk holding the upload: (path, owned). `owned` is False when it is
    the upload's own temporary file (its object removes it if it is never moved)."""
    temporary = getattr(uploaded_file, "temporary_file_path", None)
    if temporary is not None:
        return Path(temporary()), False
    path = incoming_dir() / f"{uuid.uuid4().hex}.part"
    try:
        with open(path, "wb") as out:
            uploaded_file.seek(0)
            for chunk in uploaded_file.chunks(CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise StorageFull() from exc
        raise
    return path, True


def place(staged: Path, name: str) -> None:
    """Move a staged file to its storage name (a rename on the same disk)."""
    final = Path(settings.MEDIA_ROOT) / name
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        file_move_safe(str(staged), str(final), allow_overwrite=False)
        if settings.FILE_UPLOAD_PERMISSIONS is not None:
            os.chmod(final, settings.FILE_UPLOAD_PERMISSIONS)
    except OSError as exc:
        final.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise StorageFull() from exc
        raise


def discard(*paths) -> None:
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)


def storage_name(video, client_name: str) -> str:
    """The generated, unused storage name of a new video's file."""
    from django.core.files.storage import default_storage

    return default_storage.get_available_name(
        video.file.field.generate_filename(video, client_name)
    )


# --- Folders of results (a job's crops) -------------------------------------------------------


def staging_dir(prefix: str) -> Path:
    path = incoming_dir() / f"{prefix}-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    return path


def write_file(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        path.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise StorageFull() from exc
        raise


def place_dir(staging: Path, name: str) -> None:
    """Rename a staged folder to its storage name. A folder already there is what an attempt
    killed after its rename and before its commit left (the caller holds the job): replaced."""
    final = Path(settings.MEDIA_ROOT) / name
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    os.rename(staging, final)


def discard_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
