"""The PostgreSQL adapter (the ``postgres`` extra): one schema per tenant, pooled connections.

Importing it imports psycopg and psycopg_pool; `crmkit.open_store` turns a missing extra into
a `crmkit.errors.StoreOpenError` that says what to install.
"""

from crmkit.storage.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
