"""PDF reports: the entity report and the summaries, their verification, cache and bounds.

Layout: `entity_data` and `summary_data` read what a report shows; `entity` and
`summaries` turn it into a template context; `service.produce` serves the cached
copy or renders (`pdf`, in a bounded child: `bounded`, `zygote`), records the
issue (`issues`) and caches it (`cache`). `fetcher` is the only way the renderer
reaches a file; `charts` and `qr` draw SVG on the server.
"""
