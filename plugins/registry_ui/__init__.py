"""The registry plugin's web app: built on the API server's first request to it (see ``app.create_app``)."""
