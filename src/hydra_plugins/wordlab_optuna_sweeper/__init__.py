"""Hydra sweeper plugin: Optuna (>= 3) studies with persistent, resumable storage."""
