"""The real server (``amity serve``: uvicorn, one worker) in a subprocess on 127.0.0.1, and one client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import orjson


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, db_url: str, home: Path, secret: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = home / f"server-{self.port}.log"
        env = {
            **os.environ,
            "AMITY_DATABASE_URL": db_url,
            "AMITY_HOME": str(home),
            "AMITY_SECRET_KEY": secret,
            "AMITY_LOG_FORMAT": "json",
        }
        cmd = [sys.executable, "-m", "amity.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 -- our own CLI
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"amity serve exited ({self.proc.returncode}); see {self.log}")
            try:
                if httpx2.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"amity serve did not answer within 60 s; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def post_batches(
    base: str, token: str, events: list[dict[str, Any]], batch: int
) -> tuple[float, dict[str, int]]:
    """Seconds to POST every batch (bodies serialised beforehand: the client is not what we measure)."""
    bodies = [orjson.dumps({"events": events[k : k + batch]}) for k in range(0, len(events), batch)]
    totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx2.Client(base_url=base, headers=headers, timeout=300) as client:
        started = time.perf_counter()
        for body in bodies:
            r = client.post("/api/v1/events", content=body)
            if r.status_code != 200:
                raise RuntimeError(f"POST /api/v1/events answered {r.status_code}: {r.text[:500]}")
            out = r.json()
            for k in totals:
                totals[k] += out[k]
        elapsed = time.perf_counter() - started
    return elapsed, totals


def get_360(base: str, token: str, ids: list[str], warmup: int = 20) -> list[float]:
    """Per-call wall time (ms) of GET /api/v1/customers/{id}, as a client sees it."""
    times: list[float] = []
    with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        warm = ids[:warmup]
        for k, cid in enumerate(warm + ids):
            started = time.perf_counter()
            r = client.get(f"/api/v1/customers/{cid}")
            took = (time.perf_counter() - started) * 1000
            if r.status_code != 200:
                raise RuntimeError(f"GET /api/v1/customers/{cid} answered {r.status_code}: {r.text[:300]}")
            if k >= len(warm):
                times.append(took)
    return times
