"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:server``."""

from dashboard.app import create_app
from geodata.settings import Settings

server = create_app(Settings.from_env()).server
