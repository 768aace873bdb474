"""The test suite (a package, so tests/tui is tests.tui and never shadows the real tui package)."""
