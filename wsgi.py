"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from engage import create_app
from engage import ready_to_serve

app = ready_to_serve(create_app())
