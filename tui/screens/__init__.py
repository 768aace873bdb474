"""The TUI's screens, one module each (imported lazily, when first shown)."""
