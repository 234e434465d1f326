"""The web UI: a single-page app of plain HTML, CSS and ES modules, served by the gateway.

No build step: `static/` is served as it is, `templates/` holds the two HTML documents
(the app shell and the login page). `controllers.py` serves them, signs users in and out
with the HttpOnly `jobs_token` cookie, and sends a visitor without a valid cookie to the
login page. Everything the pages show comes from the REST API and the WebSocket.
"""
