"""Small shared helpers: atomic file writes, audio I/O, seeding."""

from timbrespace.utils.atomic import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from timbrespace.utils.seeding import item_rng, item_seed_sequence

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "item_rng",
    "item_seed_sequence",
]
