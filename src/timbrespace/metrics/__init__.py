"""metrics (see DESIGN.md)."""
