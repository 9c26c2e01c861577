"""generation (see DESIGN.md)."""
