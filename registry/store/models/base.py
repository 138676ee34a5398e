"""The declarative base and the column types every table shares."""

from __future__ import annotations

from sqlalchemy import (
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase

__all__ = ["ADDRESS", "EBL_ID", "HASH", "NAMING", "Base"]


ADDRESS = String(42)
HASH = String(66)
EBL_ID = String(78)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (so migrations can name them)."""

    metadata = MetaData(naming_convention=NAMING)
