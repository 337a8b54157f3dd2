"""Real servers for the tests, started on free loopback ports from temporary folders.

Each module exposes plain start/stop helpers; tests/conftest.py turns them into fixtures.
"""
