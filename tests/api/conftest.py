"""Fixtures for the API tests."""

from tests.fast_fixtures import fast, rpc

__all__ = ["fast", "rpc"]
