"""The service: FastAPI app, routes, settings, auth, metrics, the store and the CLI."""
