"""Job history for the charts: jobs per bucket by status, success rate, per-type performance."""
