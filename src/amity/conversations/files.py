"""Attachment bytes on disk under ``AMITY_HOME/attachments``, content-addressed (sha256).

Content addressing makes storing idempotent (a retried webhook writes the same file) and lets the
bytes be written before the database transaction, keeping slow I/O out of it. The type is sniffed
from the bytes: a sender's declared type is kept for reference but never trusted, so an "image"
that is really HTML is served as what it is, and always as a download.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import filetype

SAFE_INLINE = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    declared_type: str | None
    size: int
    sha256: str
    storage_path: str  # relative to AMITY_HOME


def sniff(data: bytes, declared: str | None) -> str:
    guess = filetype.guess(data[:8192])
    if guess is not None:
        return str(guess.mime)
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def clean_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip().replace("\x00", "")
    return (base or "attachment")[:300]


def store(home: Path, filename: str, data: bytes, declared: str | None) -> StoredFile:
    digest = hashlib.sha256(data).hexdigest()
    rel = Path("attachments") / digest[:2] / digest
    path = home / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a reader never sees half a file
    return StoredFile(
        filename=clean_filename(filename),
        content_type=sniff(data, declared),
        declared_type=(declared or None) and declared[:200],
        size=len(data),
        sha256=digest,
        storage_path=str(rel),
    )


def read(home: Path, storage_path: str) -> bytes:
    return (home / storage_path).read_bytes()
