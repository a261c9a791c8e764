"""The register's search: name folding now, the index behind a small interface."""
