"""The job domain: state, the pure fold of events into jobs, and the numbers users read.

Nothing here does I/O; the tracker loads state, calls the fold, and saves the result.
"""
