"""Request and response models of the catalogue API (all in the OpenAPI document)."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from amity.core.inputs import Input

MAX_PRODUCTS = 1000
MAX_LOCATIONS = 1000
MAX_STOCK_ROWS = 10_000
MAX_HOLD_HOURS = 24 * 14

# SKUs and codes: printable, no spaces, so they survive URLs, CSV exports and barcode scanners.
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~]+$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000)]


class VariantIn(Input):
    sku: Sku
    size: Annotated[str, StringConstraints(max_length=32)] | None = None
    colour: Annotated[str, StringConstraints(max_length=64)] | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("size", mode="before")
    @classmethod
    def _size_text(cls, v: Any) -> Any:
        # Shops send shoe sizes as numbers (6.5); keep them as the text a label shows.
        if isinstance(v, int | float) and not isinstance(v, bool):
            return f"{v:g}"
        return v


class ProductIn(Input):
    name: Name
    code: Sku | None = None
    brand: Annotated[str, StringConstraints(max_length=200)] | None = None
    category: Annotated[str, StringConstraints(max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    variants: Annotated[list[VariantIn], Field(max_length=1000)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_skus(self) -> ProductIn:
        seen: set[str] = set()
        for i, v in enumerate(self.variants):
            if v.sku in seen:
                raise ValueError(f"variants[{i}].sku {v.sku} appears twice")
            seen.add(v.sku)
        return self


class ProductsIn(Input):
    products: Annotated[list[ProductIn], Field(min_length=1, max_length=MAX_PRODUCTS)]


class LocationIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    code: Sku | None = None
    kind: Literal["store", "warehouse"] = "store"
    address: Annotated[str, StringConstraints(max_length=2000)] = ""
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "UTC"
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not an IANA time zone such as Europe/Lisbon") from None
        return v

    @model_validator(mode="after")
    def _both_coordinates(self) -> LocationIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class LocationsIn(Input):
    locations: Annotated[list[LocationIn], Field(min_length=1, max_length=MAX_LOCATIONS)]


class StockIn(Input):
    sku: Sku
    location_id: Id
    quantity: Quantity


class DeltaIn(Input):
    sku: Sku
    location_id: Id
    delta: Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class InventoryIn(Input):
    items: Annotated[list[StockIn], Field(max_length=MAX_STOCK_ROWS)]


class DeltasIn(Input):
    deltas: Annotated[list[DeltaIn], Field(min_length=1, max_length=MAX_STOCK_ROWS)]


class ReservationIn(Input):
    sku: Sku
    location_id: Id
    customer_id: Id
    conversation_id: Id | None = None
    hold_hours: Annotated[float, Field(gt=0, le=MAX_HOLD_HOURS)] | None = None


class ReviewIn(Input):
    product_id: Id
    customer_id: Id | None = None
    rating: Annotated[int, Field(ge=1, le=5)]
    fit: Literal["small", "true", "large"] | None = None
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    text: Annotated[str, StringConstraints(max_length=10_000)] = ""


class StockLookupIn(Input):
    sku: Sku
    conversation_id: Id | None = None
    customer_id: Id | None = None
    near: Annotated[str, StringConstraints(max_length=64)] | None = None


class SizeRecommendationIn(Input):
    product_id: Id
    customer_id: Id
    conversation_id: Id | None = None


# ---- answers -----------------------------------------------------------------------------------
class VariantOut(BaseModel):
    id: str
    sku: str
    product_id: str
    size: str | None
    colour: str | None
    attributes: dict[str, Any]


class FitOut(BaseModel):
    reviews: int
    average_rating: float | None
    fit_votes: dict[str, int]
    fit: Literal["small", "true", "large"] | None
    fit_label: str | None


class ProductOut(BaseModel):
    id: str
    code: str | None
    name: str
    brand: str | None
    category: str | None
    description: str
    attributes: dict[str, Any]
    created_at: str
    updated_at: str
    variants: list[VariantOut]
    fit: FitOut


class ProductsOut(BaseModel):
    items: list[ProductOut]


class LocationOut(BaseModel):
    id: str
    code: str | None
    name: str
    kind: str
    address: str
    city: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    phone: str | None
    created_at: str


class LocationsOut(BaseModel):
    items: list[LocationOut]
    total: int


class InventoryWritten(BaseModel):
    written: int


class StockAtLocation(BaseModel):
    location_id: str
    name: str
    kind: str
    city: str | None
    country: str | None
    address: str
    phone: str | None
    timezone: str
    quantity: int
    reserved: int
    available: int
    distance_km: float | None
    updated_at: str


class Point(BaseModel):
    latitude: float
    longitude: float


class Origin(BaseModel):
    latitude: float
    longitude: float
    source: str  # "near" | "store_visit" | "trait:city" | "trait:location"
    detail: str


class StockOut(BaseModel):
    sku: str
    variant_id: str
    product_id: str
    product_name: str
    size: str | None
    colour: str | None
    near: Point | None
    origin: Origin | None = None
    total_available: int
    locations: list[StockAtLocation]


class ReservationOut(BaseModel):
    id: str
    sku: str | None
    variant_id: str
    location_id: str
    location_name: str | None
    customer_id: str | None
    conversation_id: str | None
    quantity: int
    status: str
    expires_at: str
    created_by: str
    created_at: str
    ended_at: str | None
    ended_by: str | None


class ReviewOut(BaseModel):
    id: str
    product_id: str
    customer_id: str | None
    rating: int
    fit: str | None
    title: str
    text: str
    created_at: str


class SizeRecommendationOut(BaseModel):
    product_id: str
    customer_id: str
    allowed: bool
    size: str | None
    sku: str | None
    reason: str
    bought_sizes: list[str]
    fit: str | None
