"""Probes for the process supervisor: liveness and readiness, outside `/api/v1` and without auth."""
