"""The ASGI entry point of the contract: `service.app:app` (built by service/api/factory.py)."""

from service.api.factory import create_app

app = create_app()
