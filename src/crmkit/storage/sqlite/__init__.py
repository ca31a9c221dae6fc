"""The SQLite adapter: the embedded default, on the standard library's sqlite3."""
