"""The web app: FastAPI pages and a JSON API on the same engine and store as the guide."""
