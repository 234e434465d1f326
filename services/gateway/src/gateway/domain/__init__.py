"""The gateway's features, one package each: controllers, services, schemas."""
