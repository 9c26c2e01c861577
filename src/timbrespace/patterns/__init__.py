"""patterns (see DESIGN.md)."""
