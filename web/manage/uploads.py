"""Station lists uploaded on ``/manage/import``, kept between the dry run and the confirmation.

An upload is copied, at most ``IMPORT_MAX_BYTES``, into ``<INSTANCE_PATH>/imports/`` (mode 0700) under
a random name: ``<token><ext>`` (mode 0600), with ``<token>.json`` beside it (the client's file name,
for the format and the report; the account that uploaded it; the import options; when). Pages name an
upload by its token only, never by a path: a token is 22 URL-safe characters (128 random bits),
checked against that pattern before any file is opened, and an upload is seen only by the account that
made it (any other gets ``NotFound``). An upload is deleted when its import is confirmed or dropped,
and every upload older than ``IMPORT_KEEP_MIN`` whenever one is saved or opened.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Mapping

from werkzeug.exceptions import RequestEntityTooLarge

from stations.errors import NotFound

log = logging.getLogger(__name__)

FOLDER = "imports"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22}")
CHUNK_BYTES = 64 * 1024
NAME_MAX_CHARS = 200  # the client's file name, as shown


@dataclass(frozen=True)
class Upload:
    """One kept upload: ``path`` the stored copy, ``filename`` the client's name (shown, never a path),
    ``owner`` the account id, ``options`` the import options chosen, ``created`` seconds since the epoch."""

    token: str
    path: Path
    filename: str
    owner: int
    size: int
    created: float
    options: Mapping[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"filename": self.filename, "suffix": self.path.suffix, "owner": self.owner, "size": self.size,
                "created": self.created, "options": dict(self.options)}


class Uploads:
    """The kept uploads in ``folder``: :meth:`save`, :meth:`get`, :meth:`update`, :meth:`delete`."""

    def __init__(self, folder: str | os.PathLike, max_bytes: int, keep_s: float):
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        self.keep_s = float(keep_s)

    @classmethod
    def of(cls, config: Mapping[str, Any], instance_path: str) -> "Uploads":
        """The site's: ``<instance_path>/imports``, ``IMPORT_MAX_BYTES``, ``IMPORT_KEEP_MIN``."""
        return cls(Path(instance_path) / FOLDER, config["IMPORT_MAX_BYTES"], config["IMPORT_KEEP_MIN"] * 60)

    def _folder(self) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.folder

    def save(self, stream: BinaryIO, filename: str, suffix: str, owner: int,
             options: Mapping[str, Any] | None = None) -> Upload:
        """Copy ``stream`` (at most ``max_bytes``, else 413 and nothing kept) under a new token.

        ``suffix`` is the stored file's extension (``.xlsx``), one the caller has checked.
        """
        if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
            raise ValueError(f"suffix must be a short extension such as .xlsx; got {suffix!r}")
        self.sweep()
        folder = self._folder()
        token = secrets.token_urlsafe(16)
        path = folder / f"{token}{suffix}"
        size = 0
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise RequestEntityTooLarge(f"the file is larger than {self.max_bytes:,} bytes, the most "
                                                    "an import may upload (IMPORT_MAX_BYTES)")
                    out.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        upload = Upload(token, path, (filename or "upload")[:NAME_MAX_CHARS], int(owner), size, time.time(),
                        dict(options or {}))
        self._write_meta(upload)
        log.info("upload %s kept: %s, %d bytes, account %s", token, upload.filename, size, owner)
        return upload

    def get(self, token: str, owner: int) -> Upload:
        """The upload ``token`` of account ``owner``; ``NotFound`` if there is none (or it expired, or is
        another account's)."""
        self.sweep()
        upload = self._read(token)
        if upload is None or upload.owner != int(owner):
            raise NotFound("this upload is gone (confirmed, dropped, or older than IMPORT_KEEP_MIN): upload the "
                           "file again")
        return upload

    def update(self, upload: Upload, options: Mapping[str, Any]) -> Upload:
        """``upload`` with new import options (kept beside it)."""
        changed = Upload(upload.token, upload.path, upload.filename, upload.owner, upload.size, upload.created,
                         dict(options))
        self._write_meta(changed)
        return changed

    def delete(self, token: str) -> None:
        """Remove an upload and its notes (nothing if it is gone)."""
        if not TOKEN_RE.fullmatch(token or ""):
            return
        meta = self.folder / f"{token}.json"
        try:
            suffix = json.loads(meta.read_text(encoding="utf-8")).get("suffix", "")
        except (OSError, ValueError):
            suffix = ""
        if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix or ""):
            (self.folder / f"{token}{suffix}").unlink(missing_ok=True)
        meta.unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> int:
        """Delete the uploads older than ``keep_s`` (and stray files of ours); how many were deleted."""
        if not self.folder.is_dir():
            return 0
        now = time.time() if now is None else now
        gone = 0
        for path in self.folder.iterdir():
            token = path.name.split(".", 1)[0]
            if not TOKEN_RE.fullmatch(token):
                continue
            try:
                age = now - path.stat().st_mtime
            except OSError:
                continue
            if age > self.keep_s:
                path.unlink(missing_ok=True)
                gone += path.suffix == ".json"
        return gone

    # ---- the notes beside each upload --------------------------------------------------------------

    def _write_meta(self, upload: Upload) -> None:
        folder = self._folder()
        temporary = folder / f".{upload.token}.{secrets.token_hex(4)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(upload.meta(), out, ensure_ascii=False)
        os.replace(temporary, folder / f"{upload.token}.json")
        now = time.time()
        os.utime(upload.path, (now, now))  # kept for IMPORT_KEEP_MIN from its last change

    def _read(self, token: str) -> Upload | None:
        if not TOKEN_RE.fullmatch(token or ""):
            return None
        try:
            meta = json.loads((self.folder / f"{token}.json").read_text(encoding="utf-8"))
            suffix = meta["suffix"]
            if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
                return None
            path = self.folder / f"{token}{suffix}"
            if not path.is_file():
                return None
            return Upload(token, path, str(meta["filename"]), int(meta["owner"]), int(meta["size"]),
                          float(meta["created"]), dict(meta.get("options") or {}))
        except (OSError, ValueError, KeyError, TypeError):
            return None
