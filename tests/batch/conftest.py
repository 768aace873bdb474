"""Fixtures for the batch tests: the queue tests' fast appliance and its client."""

from tests.fast_fixtures import fast, printed, rpc

__all__ = ["fast", "printed", "rpc"]
