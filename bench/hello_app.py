"""A bare Flask app with one "hello" endpoint: the baseline that bench/load.py serves with the
same gunicorn settings as the portal and drives with the same client.

    gunicorn --pythonpath bench hello_app:app
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
