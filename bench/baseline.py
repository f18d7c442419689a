"""The baseline: a bare Flask app with one route that renders a small base-like template."""

from flask import Flask, render_template
from jinja2 import DictLoader

PAGE = """<!doctype html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} – Fallkonferenz</title>
  <link rel="stylesheet" href="/static/css/app.css">
</head>
<body>
  <header class="site-header">
    <div class="brand"><a href="/">Fallkonferenz</a></div>
    <nav aria-label="Hauptnavigation">
      <ul><li><a href="/">Übersicht</a></li><li><a href="/faelle/">Fälle</a></li></ul>
    </nav>
  </header>
  <main id="inhalt">
    <h1>{{ title }}</h1>
    <table class="cases">
      <thead><tr><th>Fallnummer</th><th>Name</th><th>Federführung</th><th>Aufenthalt</th><th>Handlungsfelder</th></tr></thead>
      <tbody>
      {% for number, name, lead, residence, fields in rows %}
        <tr><td><a href="/faelle/{{ number }}">{{ number }}</a></td><td>{{ name }}</td><td>{{ lead }}</td>
          <td>{{ residence }}</td><td>{{ fields }}</td></tr>
      {% endfor %}
      </tbody>
    </table>
  </main>
  <footer class="site-footer"><p>Fallkonferenz – rechtskreisübergreifende Fallarbeit.</p></footer>
</body>
</html>
"""

ROWS = [
    (f"FK-2026-{n:04d}", "Amal Haddad", "KI", "Aufenthaltsgestattung", "Sprache, Arbeit, Wohnen") for n in range(1, 51)
]

app = Flask(__name__)
# A loader (not render_template_string) so the template is compiled once and cached, as the app's templates are.
app.jinja_loader = DictLoader({"page.html": PAGE})


@app.get("/")
def index():
    """Render the static page."""
    return render_template("page.html", title="Fälle", rows=ROWS)
