"""Files an agent attaches to a console reply: checked, stored, and how each channel carries them.

Uploads are stored with ``conversations.files.store`` (content-addressed, type sniffed from the bytes,
never from the browser's claim) and handed to ``conversations.actions.add_message``, which attaches
them to the message. How they reach the customer depends on the channel:

- email and the API channel carry the files themselves (a MIME part; base64 in the JSON body);
- chat has no file frames, so the reply's text gets one link per file: ``/files/<token>/<name>``,
  where the token is the file's sha256 signed with the secret key. The link is the permission, as an
  email attachment is: whoever holds the reply may open its files. Nothing else can be guessed from
  it, and once the attachment is erased the link answers 404;
- SMS, WhatsApp and Telegram replies cannot carry files yet: the reply is refused, naming the field.

Programs (by sniffed type or by name) are refused, as mail gateways refuse them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, UploadFile
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from amity.conversations.files import SAFE_INLINE, StoredFile, clean_filename, read, sniff, store
from amity.conversations.models import Attachment
from amity.core.actions import App
from amity.web.auth import app_of

router = APIRouter(include_in_schema=False)

MAX_FILES = 10
BODY_HEADROOM = 64 * 1024  # the form's other fields and the multipart framing
FILE_CHANNELS = frozenset({"email", "api"})  # their transports send the bytes
LINK_CHANNELS = frozenset({"chat"})  # the customer gets a link in the text
REFUSED_TYPES = frozenset(
    {"application/x-msdownload", "application/x-executable", "application/x-shockwave-flash"}
)
# fmt: off
REFUSED_EXTENSIONS = frozenset({
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".dll", ".cpl", ".lnk", ".hta", ".vbs", ".vbe",
    ".js", ".jse", ".wsf", ".wsh", ".ps1", ".psm1", ".jar", ".apk", ".app", ".sh", ".bin", ".reg",
})
# fmt: on


@dataclass(frozen=True)
class Checked:
    files: list[StoredFile]
    error: str | None = None


def upload_limit(app: App) -> int:
    """The largest file a reply may carry: the attachment limit, and what fits in one reply's body
    (the middleware refuses bigger bodies before any route sees them; replies may carry
    ``max_upload_bytes``, more than other requests)."""
    return max(0, min(app.settings.max_attachment_bytes, app.settings.max_upload_bytes - BODY_HEADROOM))


def _refused(name: str, content_type: str) -> bool:
    return content_type in REFUSED_TYPES or os.path.splitext(name.lower())[1] in REFUSED_EXTENSIONS


def check_uploads(app: App, uploads: list[UploadFile]) -> Checked:
    """Read, check and store the uploaded files; the first problem found, naming the file."""
    given = [u for u in uploads if u.filename]  # a form with no file chosen sends one empty part
    if len(given) > MAX_FILES:
        return Checked([], f"At most {MAX_FILES} files in one reply.")
    limit = upload_limit(app)
    files: list[StoredFile] = []
    for u in given:
        name = clean_filename(u.filename or "")
        data = u.file.read(limit + 1)  # the form is spooled already; read no more than needed
        if len(data) > limit:
            return Checked([], f"{name} is larger than {limit:,} bytes, the most a reply may carry.")
        if not data:
            return Checked([], f"{name} is empty.")
        if _refused(name, sniff(data, u.content_type)):
            return Checked([], f"{name} is a program; programs cannot be sent. Zip it or share a link.")
        files.append(store(app.settings.home, name, data, u.content_type))
    return Checked(files)


def _signer(app: App) -> URLSafeSerializer:
    return URLSafeSerializer(app.cache["secret_key"], salt="amity.files.link")


def link_for(app: App, base_url: str, f: StoredFile) -> str:
    token = _signer(app).dumps(f.sha256)
    return f"{base_url.rstrip('/')}/files/{token}/{quote(f.filename, safe='')}"


def with_links(app: App, base_url: str, text: str, files: list[StoredFile]) -> str:
    """The reply as a chat customer receives it: the text, then one line per file with its link."""
    lines = [f"Attached: {f.filename} {link_for(app, base_url, f)}" for f in files]
    return "\n\n".join(p for p in (text.strip(), "\n".join(lines)) if p)


def public_base(request: Request, app: App) -> str:
    """How the customer's browser reaches Amity: AMITY_PUBLIC_URL, else as this request reached it."""
    return (app.settings.public_url or str(request.base_url)).rstrip("/")


@router.get("/files/{token}/{name}")
def get_file(
    request: Request,
    token: Annotated[str, Path(max_length=200)],
    name: Annotated[str, Path(max_length=300)],
) -> Response:
    app = app_of(request)
    try:
        sha = _signer(app).loads(token)
    except BadSignature:
        sha = None
    row = None
    if isinstance(sha, str):
        with app.db.read() as s:
            # Any stored attachment with these bytes will do: content addressing makes them one file.
            row = s.scalars(select(Attachment).where(Attachment.sha256 == sha).limit(1)).first()
    if row is None:
        return Response("No such file.", status_code=404, media_type="text/plain")
    disposition = "inline" if row.content_type in SAFE_INLINE else "attachment"
    safe_name = clean_filename(name).replace('"', "").encode("ascii", "replace").decode()
    return Response(
        read(app.settings.home, row.storage_path),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe_name}"',
            "X-Content-Type-Options": "nosniff",  # a customer's browser never reinterprets the file
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, max-age=3600",
            "Referrer-Policy": "no-referrer",  # the link is the permission: keep it out of Referer
        },
    )
