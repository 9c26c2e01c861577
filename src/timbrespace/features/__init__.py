"""features (see DESIGN.md)."""
