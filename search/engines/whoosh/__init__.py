"""The whoosh engine (pure Python): `backend.open_backend` opens it."""
