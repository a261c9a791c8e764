"""The search engines, one package each; only `search.engines.<name>` imports its engine."""
