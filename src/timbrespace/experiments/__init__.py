"""experiments (see DESIGN.md)."""
