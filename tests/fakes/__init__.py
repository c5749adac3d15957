"""Test doubles for unit tests: a pinned clock and loopback fake vendor servers."""
