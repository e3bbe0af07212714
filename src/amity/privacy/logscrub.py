"""Erasure reaches the logs: lines naming the person are redacted in log files under AMITY_HOME.

Amity logs JSON lines to stderr; an install that keeps logs on the same machine points its process
manager (or a ``logging.FileHandler``) at ``$AMITY_HOME/logs/*.log`` (docs/privacy.md, "Logs").
Erasure rewrites each such file: a line that names the person (an identifier or a text trait) is
redacted whole, since whatever else it says is about them too. A JSON line keeps its time, level,
logger and request id (what happened, and when, can still be traced) with ``msg`` ``[erased]``; any
other line becomes ``[erased]``. Logs shipped elsewhere (journald, a log service) must be handled there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import orjson

LOG_DIR = "logs"
REDACTED = "[erased]"
SUFFIXES = (".log", ".jsonl", ".txt")


def log_files(home: Path) -> list[Path]:
    root = home / LOG_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))


def _pattern(needles: set[str]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for n in needles:
        forms.add(n)
        # JSON lines escape some characters: "+44…" stays, but a quote or slash in a name does not.
        forms.add(n.replace("\\", "\\\\").replace('"', '\\"').replace("/", "\\/"))
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)), re.IGNORECASE)


KEPT = ("ts", "level", "logger", "request_id")


def _redacted(line: str) -> str:
    end = "\n" if line.endswith("\n") else ""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return REDACTED + end
    if not isinstance(data, dict):
        return REDACTED + end
    kept = {k: data[k] for k in KEPT if k in data} | {"msg": REDACTED}
    return orjson.dumps(kept).decode() + end


def scrub(home: Path, needles: set[str]) -> dict[str, int]:
    """Redact ``needles`` in every log file; returns lines changed per file (relative path)."""
    pattern = _pattern(needles)
    changed: dict[str, int] = {}
    if pattern is None:
        return changed
    for path in log_files(home):
        # Rewritten in place, not replaced: a process still appending to the file (a FileHandler, a
        # process manager) keeps writing to this very file instead of to an unlinked one.
        with path.open("r+", encoding="utf-8", errors="surrogateescape", newline="") as f:
            lines = f.readlines()
            new = [_redacted(line) if pattern.search(line) else line for line in lines]
            n = sum(a != b for a, b in zip(lines, new, strict=True))
            if n:
                f.seek(0)
                f.writelines(new)
                f.truncate()
                f.flush()
                os.fsync(f.fileno())
                changed[str(path.relative_to(home))] = n
    return changed
