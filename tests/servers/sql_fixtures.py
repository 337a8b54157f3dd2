"""Fixtures: SQLite and a PostgreSQL server, and SQLStore on them. (To be written.)"""
