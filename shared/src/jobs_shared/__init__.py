"""The one library every MerchantOps Jobs service imports.

Contracts (what travels on the wire), topology (where it travels), the domain
(how events fold into jobs, with no I/O), the store port and its adapters, and
settings. Services stay thin: they wire these pieces to a process.
"""
