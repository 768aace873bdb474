"""Fixtures for the TUI tests: also the appliance polled often (`fast`), for faults that must show quickly."""

from tests.fast_fixtures import fast

__all__ = ["fast"]
