"""What conversations hold about a person, for access and erasure requests (docs/privacy.md).

Erasure keeps every conversation and message row with its status, direction, channel and times, so
counts, response times and SLA results stay right; what was said (text, HTML, subjects), who it was
addressed to, attachments (rows and files) and provider errors go. A provider's message id (an email
Message-ID can carry the sender's host or address) is replaced by a keyed hash: still unique per
channel, no longer readable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from amity.channels.models import Channel
from amity.conversations.models import Attachment, Conversation, Delivery, Message
from amity.privacy.holders import DataHolder, register
from amity.privacy.rows import as_dicts

# The privacy runner puts the running app's home (where attachment files live) and secret key (which
# hashes provider ids) in ``session.info`` under these keys: holders only get a session.
HOME_KEY = "amity.home"
HASH_INFO = "amity.hash_key"


def conversation_ids(session: Session, ids: list[str]) -> list[str]:
    return list(session.scalars(select(Conversation.id).where(Conversation.customer_id.in_(ids))))


def written_from(session: Session, ids: list[str], type_: str, value: str) -> list[str]:
    """Enabled channels the person wrote to us from this very address, most recent first: an
    address they have proven they control, so a magic link may go there."""
    rows = session.execute(
        select(Message.channel_id, Message.address, Message.created_at)
        .join(Channel, Channel.id == Message.channel_id)
        .where(
            Message.customer_id.in_(ids),
            Message.direction == "in",
            Message.address.is_not(None),
            Channel.enabled.is_(True),
        )
        .order_by(Message.created_at.desc())
    )
    out: list[str] = []
    for channel_id, address, _ in rows:
        same = bool(address) and address.get("type") == type_ and address.get("value") == value
        if same and channel_id and channel_id not in out:
            out.append(channel_id)
    return out


def export(session: Session, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    convs = conversation_ids(session, ids)
    messages = list(
        session.scalars(
            select(Message)
            .where((Message.customer_id.in_(ids)) | (Message.conversation_id.in_(convs)))
            .order_by(Message.created_at)
        )
    )
    message_ids = [m.id for m in messages]
    return {
        "conversations": as_dicts(session.scalars(select(Conversation).where(Conversation.id.in_(convs)))),
        "messages": as_dicts(messages),
        "attachments": as_dicts(
            session.scalars(
                select(Attachment).where(
                    (Attachment.customer_id.in_(ids)) | (Attachment.message_id.in_(message_ids))
                )
            )
        ),
        "deliveries": as_dicts(session.scalars(select(Delivery).where(Delivery.message_id.in_(message_ids)))),
    }


def attachment_files(session: Session, ids: list[str]) -> list[tuple[str, str]]:
    """(filename, storage path) of the person's attachments, for the export's files/ folder."""
    rows = session.execute(
        select(Attachment.id, Attachment.filename, Attachment.storage_path).where(
            Attachment.customer_id.in_(ids)
        )
    )
    return [(f"{aid}-{name}", path) for aid, name, path in rows]


def _hashed(session: Session, external_id: str) -> str:
    key = str(session.info.get(HASH_INFO, "")).encode()
    return "erased:" + hmac.new(key, external_id.encode(), hashlib.sha256).hexdigest()


def _shred(path: Path) -> None:
    # Overwrite before unlinking: the bytes should not survive in the file's old blocks for anyone
    # scanning the data directory's free space through the same file handle or a snapshot tool.
    try:
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.write(b"\0" * size)
        path.unlink()
    except FileNotFoundError:
        pass


def _forget_messages(session: Session, message_ids: list[str]) -> int:
    """Empty these messages of what was said and to whom; their attachments go (files after commit)."""
    atts = session.execute(
        select(Attachment.id, Attachment.storage_path).where(Attachment.message_id.in_(message_ids))
    ).all()
    erased_ids = [a for a, _ in atts]
    paths = {p for _, p in atts}
    # Files are content-addressed: the same bytes sent by someone else share the file, which stays.
    shared = set(
        session.scalars(
            select(Attachment.storage_path).where(
                Attachment.storage_path.in_(paths), Attachment.id.not_in(erased_ids)
            )
        )
    )
    session.execute(delete(Attachment).where(Attachment.id.in_(erased_ids)))
    for mid, ext in session.execute(
        select(Message.id, Message.external_id).where(Message.id.in_(message_ids))
    ).all():
        session.execute(
            update(Message)
            .where(Message.id == mid)
            .values(
                text="",
                html=None,
                subject=None,
                address=None,
                in_reply_to=None,
                thread_refs=[],
                delivery_error=None,
                meta={},
                external_id=_hashed(session, ext) if ext and not ext.startswith("erased:") else ext,
            )
        )
    session.execute(update(Delivery).where(Delivery.message_id.in_(message_ids)).values(last_error=None))
    home = session.info.get(HOME_KEY)
    doomed = [Path(home) / p for p in paths - shared] if home else []
    if doomed:
        # Only once the change has committed: a rolled-back erasure must leave the files in place.
        @event.listens_for(session, "after_commit", once=True)
        def _remove_files(_session: Session) -> None:
            for path in doomed:
                _shred(path)

    return len(message_ids)


def erase(session: Session, ids: list[str]) -> None:
    convs = conversation_ids(session, ids)
    message_ids = list(
        session.scalars(
            select(Message.id).where((Message.customer_id.in_(ids)) | (Message.conversation_id.in_(convs)))
        )
    )
    # Attachments filed under the person but on someone else's message (a forwarded file) go too.
    stray = list(session.scalars(select(Attachment.message_id).where(Attachment.customer_id.in_(ids))))
    _forget_messages(session, sorted(set(message_ids) | set(stray)))
    session.execute(
        update(Conversation).where(Conversation.id.in_(convs)).values(subject="", custom_fields={}, links=[])
    )


def expire_messages(session: Session, channel_type: str | None, cutoff: dt.datetime, keep: list[str]) -> int:
    """Retention: messages older than ``cutoff`` (on one channel type, or any but those in ``keep``,
    which have rules of their own) are emptied like an erasure's. Already emptied ones are skipped."""
    q = select(Message.id).where(
        Message.created_at < cutoff, (Message.text != "") | Message.html.is_not(None)
    )
    if channel_type is not None:
        q = q.where(Message.channel_type == channel_type)
    elif keep:
        q = q.where(Message.channel_type.not_in(keep))
    ids = list(session.scalars(q))
    with_files = select(Attachment.message_id).join(Message, Message.id == Attachment.message_id)
    with_files = with_files.where(Message.created_at < cutoff)
    if channel_type is not None:
        with_files = with_files.where(Message.channel_type == channel_type)
    elif keep:
        with_files = with_files.where(Message.channel_type.not_in(keep))
    ids = sorted(set(ids) | set(session.scalars(with_files)))
    return _forget_messages(session, ids) if ids else 0


HOLDER = DataHolder(
    name="conversations",
    tables=("conversations", "messages", "attachments", "deliveries"),
    export=export,
    erase=erase,
)
register(HOLDER)
