"""The job tracker: the one writer of job state.

It consumes every job command and worker event from its inbox queue, folds them in
batches into job and item state (`jobs_shared.domain.fold`), saves each batch with one
store write, then announces what changed (`JobsUpdated`) and hands new jobs to workers
(`RunJob`). Replicas are hot standbys: the inbox is single-active-consumer.
"""
