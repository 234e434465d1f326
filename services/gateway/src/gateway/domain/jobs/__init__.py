"""Reading jobs: the list, one job, its items and its errors."""
