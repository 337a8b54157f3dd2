"""Runnable examples for Flask-JWT-Guard (importable from the repository root)."""
