"""What the SQL adapters share: row codecs, the schema and its migrations, one backend."""
