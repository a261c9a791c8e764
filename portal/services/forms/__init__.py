"""Form adapters: a page's form or an API body turned into calls of the domain services.

Each adapter parses the submitted strings, calls the services with the acting
user, and keeps one transaction per submission; the access rules stay in the
services they call. `admin.py` serves the admin pages, `due_process.py` the
representatives' and the deciders' forms, `workspace.py` the regulators'
workspace (and what it shows), `api.py` the regulators' JSON write API.
"""
