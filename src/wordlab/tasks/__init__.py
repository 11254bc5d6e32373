"""Tasks: what only one task knows (its data flavour, system, metrics, reports)."""
