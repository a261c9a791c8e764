"""The tantivy engine (Rust, for large registers): `backend.open_backend` opens it."""
