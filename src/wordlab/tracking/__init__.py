"""MLflow tracking: run naming, tags, config and artifact logging."""
