"""Fixtures for the queue tests."""

from tests.fast_fixtures import fast, printed, rpc, settle, wait_job

__all__ = ["fast", "printed", "rpc", "settle", "wait_job"]
