"""The only code that writes: services take the session, the acting user and the index.

Four kinds, each module one of them:

- domain writes, each checking its rule from `access.py` again: `accounts`,
  `admin` (agency settings, merges), `appeals`, `due_process` (claims, replies,
  corrections), `entities`, `records`, `register` (jurisdictions, agencies),
  `report_issues` (the row that lets a PDF be verified), `retention`; and what
  they write beside their rows: `audit` (the change log), `counters`,
  `notifications`, `scores`; `fields` parses one input field each;
- form adapters, `forms/`: a form or an API body turned into those calls;
- page read models: `public` (entities, their visible records and scores),
  `record_page`, `directory` (agency and jurisdiction pages), `history` (scores
  as they stood on a date);
- pipelines: `imports/` (files in, in the order read, map, match, plan, write,
  report), `exports`, `ftm` and `feeds` (the register out), `bulk` (the demo
  loader's batches), `backup`, and the search index's glue, `indexing` and
  `searching`.
"""
