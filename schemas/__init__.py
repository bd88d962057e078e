"""pyarrow table schemas, the config schema and the audit database schema."""
