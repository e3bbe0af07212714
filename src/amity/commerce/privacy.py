"""The orders half's part in access and erasure requests (amity.privacy.holders).

Export hands over every row we keep about the person. Erasure anonymises what points at them (the
shipping address, appointment addresses and notes, card numbers, tracking numbers, free-text reasons,
device names and serials) and keeps amounts, currencies, SKUs and times, so revenue, refund and
delivery figures stay right after the person is gone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from amity.commerce.models import (
    CUSTOMER_TABLES,
    Appointment,
    Credit,
    Device,
    Membership,
    Order,
    OrderLine,
    Refund,
    Return,
    Shipment,
)
from amity.db import Base
from amity.privacy.holders import DataHolder, register


def _row(obj: Base) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        v = getattr(obj, attr.key)
        out[attr.key] = v.isoformat() if isinstance(v, dt.datetime) else v
    return out


def export(s: Session, customer_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for model in CUSTOMER_TABLES:
        table = model.__tablename__
        rows = s.scalars(select(model).where(model.customer_id.in_(customer_ids)))
        out[table] = [_row(r) for r in rows]
    order_ids = [o["id"] for o in out["commerce_orders"]]
    lines: list[OrderLine] = (
        list(s.scalars(select(OrderLine).where(OrderLine.order_id.in_(order_ids)))) if order_ids else []
    )
    out["commerce_order_lines"] = [_row(r) for r in lines]
    return out


def erase(s: Session, customer_ids: list[str]) -> None:
    mine = Order.customer_id.in_(customer_ids)
    s.execute(update(Order).where(mine).values(shipping_address={}))
    s.execute(
        update(Shipment)
        .where(Shipment.customer_id.in_(customer_ids))
        .values(tracking_number=None, tracking_url=None)
    )
    s.execute(update(Refund).where(Refund.customer_id.in_(customer_ids)).values(reason=""))
    s.execute(update(Return).where(Return.customer_id.in_(customer_ids)).values(reason=""))
    s.execute(update(Credit).where(Credit.customer_id.in_(customer_ids)).values(reason=""))
    s.execute(
        update(Appointment)
        .where(Appointment.customer_id.in_(customer_ids))
        .values(address={}, notes="", engineer=None)
    )
    s.execute(update(Membership).where(Membership.customer_id.in_(customer_ids)).values(number=None))
    # A serial is unique and points at one household: it becomes the row's own id.
    for dev in s.scalars(select(Device).where(Device.customer_id.in_(customer_ids))):
        dev.serial, dev.name, dev.details = f"erased:{dev.id}", None, {}
    s.flush()


HOLDER = DataHolder(
    name="commerce.orders",
    tables=(*(m.__tablename__ for m in CUSTOMER_TABLES), "commerce_order_lines"),
    export=export,
    erase=erase,
)


def install() -> None:
    register(HOLDER)
