"""The gateway: MerchantOps Jobs' public REST API (and, later, its WebSocket and web UI)."""
