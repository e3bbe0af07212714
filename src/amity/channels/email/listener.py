"""The inbound SMTP listener (aiosmtpd): mail for our channel addresses in, everything else refused.

    listener = SmtpListener(app, "0.0.0.0", 2525)
    listener.start()   # a thread running the asyncio loop; returns once the port answers
    ...
    listener.stop()

It is an SMTP *server*, not a relay: RCPT TO is accepted only for the address of an enabled email
channel (or its plus-address ``local+<token>@domain``) and refused with 550 otherwise. Database
work (routing, storing) runs on a small thread pool, never on the event loop, so one slow
transaction does not stall every other SMTP session.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from types import FrameType
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from amity.channels.email import intake, routing
from amity.core.actions import App

log = logging.getLogger("amity.channels.email")

MAX_RECIPIENTS = 50
HEADROOM = 1024 * 1024  # headers and text around the attachments


def message_limit(max_attachment_bytes: int) -> int:
    """The largest message accepted over SMTP: room for two attachments at the attachment limit after
    base64 (4/3) plus text. A bigger attachment inside a message that fits is refused by name on
    the stored message (the rest is kept); a message beyond this is refused whole with 552."""
    return 2 * (max_attachment_bytes * 4 // 3) + HEADROOM


class _Server(SMTP):
    """aiosmtpd's SMTP with a size refusal that says what the limit is."""

    def __init__(self, handler: Any, *, attachment_limit: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._attachment_limit = attachment_limit

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str) and status.startswith("552 Error:"):
            status = (
                f"552 5.3.4 message too big: this server accepts at most {self.data_size_limit} bytes "
                f"(and attachments of at most {self._attachment_limit} bytes)"
            )
        await super().push(status)


class _Controller(Controller):
    def __init__(self, handler: Any, *, attachment_limit: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._attachment_limit = attachment_limit

    def factory(self) -> _Server:
        return _Server(self.handler, attachment_limit=self._attachment_limit, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        # Port 0 asks the OS for a free port: learn which before aiosmtpd connects to itself.
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = int(self.server.sockets[0].getsockname()[1])
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated


class _Handler:
    def __init__(self, app: App, pool: ThreadPoolExecutor) -> None:
        self.app = app
        self.pool = pool

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 too many recipients; at most {MAX_RECIPIENTS} per message"
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(self.pool, routing.route, self.app, address)
        except Exception:
            log.exception("could not look up recipient %s", address)
            return "451 4.3.0 temporary failure looking up the recipient; try again later"
        if found is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            reply: str = await loop.run_in_executor(
                self.pool, intake.accept, self.app, envelope.mail_from or "", list(envelope.rcpt_tos), raw
            )
        except Exception:
            # Never a 5xx for our own failure: a 4xx keeps the message at the sender's server, which retries.
            log.exception("could not store mail from %s", envelope.mail_from)
            return "451 4.3.0 temporary failure storing the message; try again later"
        return reply


class SmtpListener:
    """Receives mail for the configured email channels on ``host:port`` (port 0: any free port)."""

    def __init__(
        self,
        app: App,
        host: str | None = None,
        port: int | None = None,
        *,
        max_message_bytes: int | None = None,
        workers: int = 4,
    ) -> None:
        self.app = app
        self.host = host if host is not None else app.settings.smtp_host
        self._port = port if port is not None else app.settings.smtp_port
        attachment_limit = app.settings.max_attachment_bytes
        self.max_message_bytes = max_message_bytes or message_limit(attachment_limit)
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._controller: _Controller | None = None
        self._attachment_limit = attachment_limit

    @property
    def port(self) -> int:
        """The port actually listened on (the OS's choice when asked for 0)."""
        return int(self._controller.port) if self._controller is not None else self._port

    def start(self) -> None:
        if self._controller is not None:
            return
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="amity-smtp")
        self._controller = _Controller(
            _Handler(self.app, self._pool),
            hostname=self.host,
            port=self._port,
            attachment_limit=self._attachment_limit,
            # gethostname, not getfqdn: the FQDN lookup can hang for seconds without DNS.
            server_hostname=socket.gethostname(),
            data_size_limit=self.max_message_bytes,
            ident="Amity",
        )
        try:
            self._controller.start()
        except Exception:
            # aiosmtpd leaves its loop open when binding fails; close it, or its sockets leak.
            if not self._controller.loop.is_closed() and not self._controller.loop.is_running():
                self._controller.loop.close()
            self._pool.shutdown(wait=False)
            self._controller = self._pool = None
            raise
        log.info(
            "SMTP listener on %s:%s (messages up to %s bytes)", self.host, self.port, self.max_message_bytes
        )

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # let a message being stored finish its transaction
            self._pool = None

    def __enter__(self) -> SmtpListener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_forever(
    app: App, host: str | None = None, port: int | None = None, *, stop: threading.Event | None = None
) -> None:
    """Listen until interrupted (Ctrl-C, SIGTERM) or until ``stop`` is set: ``amity smtp``."""
    stop = stop or threading.Event()
    previous: Any = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:

        def _terminate(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, _terminate)
    listener = SmtpListener(app, host, port)
    listener.start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
