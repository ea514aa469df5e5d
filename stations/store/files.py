"""The file store's disk work: read a stations file as UTF-8, replace it atomically, clean up.

Atomic replacement: a temporary file in the same folder, fsync, rename over the store, fsync the
folder; a reader, or a process killed mid-write, sees the old file or the new one, never half of
one. The new file keeps the old one's mode and, where the process may set them, its owner and
group. Temporary files left by killed writers are removed by a later write.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import time
from pathlib import Path

from ..errors import Problem, StoredDataError

log = logging.getLogger(__name__)

#: a temporary file of this store older than this is left from an interrupted write and removed.
#: Under the lock every temporary file is stale already (each writer holds the lock while its
#: temporary file exists); the age only guards against a writer the lock cannot see (another host).
STALE_TEMPORARY_S = 600
#: temporary files are named ``.<store file name>.<8 of these>.tmp``, as ``tempfile.mkstemp`` names them
_TEMPORARY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def file_version(path: Path) -> tuple[int, int, int] | None:
    """(mtime_ns, size, inode) of the file, or ``None`` if there is none: changes with every write."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def version_token(version: tuple[int, int, int] | None) -> str:
    return "empty" if version is None else f"{version[0]:x}-{version[1]:x}-{version[2]:x}"


def read_stations_text(path: Path) -> str:
    """The text of a stations file; :class:`StoredDataError` naming the path if it cannot be read as UTF-8.

    A UTF-8 byte-order mark (as Windows Notepad writes) is accepted and dropped.
    """
    where = str(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise StoredDataError(Problem(where, "(file)", "a directory",
                                      "a GeoJSON file, but this path is a directory"), where) from None
    except OSError as exc:
        raise StoredDataError(Problem(where, "(file)", type(exc).__name__,
                                      f"a readable GeoJSON file ({exc.strerror or exc})"), where) from None
    return decode_stations_bytes(data, where)


def decode_stations_bytes(data: bytes, where: str) -> str:
    """:func:`read_stations_text` of bytes read already (``where`` names the file)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise StoredDataError(Problem(
            where, "(file)", f"byte {exc.start} (line {line})",
            "UTF-8 text, but the file is not UTF-8 (perhaps GBK or GB18030): "
            "convert it to UTF-8 or use `yizhan import`, which reads GBK"), where) from None


def _temporary_name(path: Path) -> str:
    return f".{path.name}.{''.join(secrets.choice(_TEMPORARY_CHARS) for _ in range(8))}.tmp"


def remove_stale_temporaries(path: Path) -> None:
    """Under the lock: remove the temporary files of the store ``path`` left by killed writers.

    Only names this store makes (``.<file name>.<8 random characters>.tmp``, the pattern of
    ``tempfile.mkstemp`` that earlier versions used), only regular files, only if older than
    ``STALE_TEMPORARY_S``; never another program's files.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[{_TEMPORARY_CHARS}]{{8}}\.tmp")
    now = time.time()
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_TEMPORARY_S:
                os.unlink(entry.path)
                log.warning("removed %s, left by an interrupted write of %s", entry.path, path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove the stale temporary file %s: %s", entry.path, exc)


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, rename over, fsync the folder.

    The new file keeps the mode of the file it replaces and, where this process may set them,
    its owner and group; a new store gets the mode ``open()`` gives (0666 less the umask).
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """:func:`atomic_write` of bytes."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    # The temporary file is never more open than the file it replaces (the umask may narrow it
    # further until the exact mode is set below).
    create_mode = stat.S_IMODE(old.st_mode) & 0o777 if old is not None else 0o666
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = folder / _temporary_name(path)
        try:
            fd = os.open(tmp, flags, create_mode)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary file name in {folder}")
    try:
        with os.fdopen(fd, "wb") as fh:
            if old is not None:
                _copy_owner_and_mode(path, fh.fileno(), old)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _copy_owner_and_mode(path: Path, fd: int, old: os.stat_result) -> None:
    """Give the open temporary file the owner, group and mode of the file it replaces."""
    new = os.fstat(fd)
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)  # root (or the same owner) may
        except OSError:
            try:
                os.fchown(fd, -1, old.st_gid)  # a member of the group may keep the group
            except OSError as exc:
                log.warning("%s: cannot keep its owner %d and group %d (%s); it is now owned by "
                            "this process's user", path, old.st_uid, old.st_gid, exc.strerror)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which may clear setuid/setgid bits
