"""Live updates: the WebSocket `/api/v1/ws` that pushes every change of the jobs a client
watches (PRODUCT.md §3).

The path of a change: the tracker commits a batch and publishes the jobs it changed
(`JobsUpdated`, each job once) on the `jobs.updates` fanout; each gateway process hears
all of them through a queue of its own (`feed.py`); its hub (`hub.py`) hands each job to
the subscriptions of the same tenant that it concerns (`subscriptions.py`); each socket's
session (`session.py`) coalesces them per job (`coalescer.py`) and writes them out. The
wire format is in `protocol.py`, the route and its auth in `controllers.py`.
"""
