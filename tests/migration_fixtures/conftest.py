"""The fixture apps are not part of this suite: ``tests/test_migrate.py`` copies each one, migrates
the copy and runs its own tests there, in a pytest process of their own."""

collect_ignore_glob = ["v3/*", "v4/*"]
