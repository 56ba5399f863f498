"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:server``.

Behind a reverse proxy, set ``CTG_CARTO_PROXIES=1`` so redirects and generated URLs use the client's scheme and host
(werkzeug ``ProxyFix``); it stays off by default because forwarded headers from a direct client cannot be trusted.
"""

from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.app import create_app
from geodata.settings import Settings

settings = Settings.from_env()
server = create_app(settings).server
if settings.proxies:
    server.wsgi_app = ProxyFix(
        server.wsgi_app, x_for=settings.proxies, x_proto=settings.proxies, x_host=settings.proxies
    )
