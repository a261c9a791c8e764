"""The portal's side of search: documents from the database, the index kept current, queries."""
