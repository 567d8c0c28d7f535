"""The integration registry: each company's settings and its two tokens (encrypted) in
PostgreSQL, the source of integrations when `DATABASE_URL` is set (see docs/registry.md)."""
