"""The patrol app's server side: the shell page, the service worker and the manifest (issue 21).

The offline behaviour itself is a browser's: tests/e2e/test_pwa_offline.py.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from tests.conftest import login_as, translated

pytestmark = pytest.mark.demo_data
WORKER_PREFIX = "self.PWA_CONFIG = "


def _as(client, lang: str) -> None:
    login_as(client, "volunteer@demo.kz")
    client.post("/language", data={"lang": lang, "next": "/app"})


def _worker_config(body: str) -> dict:
    first, _rest = body.split("\n", 1)
    assert first.startswith(WORKER_PREFIX) and first.endswith(";")
    return json.loads(first[len(WORKER_PREFIX) : -1])


def test_the_app_its_worker_and_manifest_need_a_signed_in_person(client):
    for url in ("/app", "/sw.js", "/manifest.webmanifest"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url
    # No manifest is offered to a visitor who is not signed in (it would answer a redirect).
    assert 'rel="manifest"' not in client.get("/login").text


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_shell_passes_its_words_as_data_and_runs_only_the_portals_scripts(app, client, lang):
    _as(client, lang)
    response = client.get("/app")
    assert response.status_code == 200
    page = response.text
    assert f'<html lang="{lang}">' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert all(not body.strip() and 'src="/static/' in attrs for attrs, body in scripts)
    assert any("/static/pwa/app.js" in attrs for attrs, _body in scripts)
    assert any("/static/pwa/outbox.js" in attrs for attrs, _body in scripts)
    assert "style=" not in page
    found = re.search(r"data-strings='([^']*)'", page)
    strings = json.loads(found.group(1).replace("&#34;", '"').replace("&amp;", "&"))
    assert strings["checkIn"] == translated(app, "Check in", lang)
    assert strings["statuses"]["cancelled"] == translated(app, "Cancelled", lang)
    assert "%(place)s" in strings["checkInLabel"]
    # The shell links its manifest and is offered in the person's own menu.
    link = '<link rel="manifest" href="/manifest.webmanifest" crossorigin="use-credentials">'
    assert link in page
    assert '<a class="dropdown-item" href="/app" aria-current="page">' in page
    assert 'data-api="/api/v1"' in page and 'data-worker="/sw.js"' in page


def test_the_worker_is_served_from_the_root_with_a_versioned_precache(client):
    _as(client, "kk")
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    config = _worker_config(response.text)
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert config["shell"] == "/app" and config["static"] == "/static/"
    precache = config["precache"]
    # Static files by addresses that name their content (portal/static_files.py): the worker
    # matches a request's path and query against these.
    assert all(re.search(r"\?v=[0-9a-f]{12}$", u) for u in precache if u.startswith("/static/"))
    paths = {u.split("?")[0] for u in precache}
    assert {"/app", "/manifest.webmanifest", "/static/pwa/app.js", "/static/pwa/outbox.js"} <= paths
    assert {"/static/pwa/icon-192.png", "/static/pwa/icon-512.png"} <= paths
    assert "url.pathname + url.search" in response.text
    # Every file the worker precaches exists (one missing file fails the whole install).
    for url in precache:
        with client.get(url) as answer:
            assert answer.status_code == 200, url
    # Reads kept for offline use; writes never are (the worker touches GET only).
    assert set(config["api"]) >= {
        "/api/v1/me/shifts",
        "/api/v1/me/certificate",
        "/api/v1/me/contribution-kinds",
        "/api/v1/session",
    }
    assert 'request.method !== "GET"' in response.text
    # The same release gives the same worker: a browser reinstalls only when something changed.
    assert _worker_config(client.get("/sw.js").text)["version"] == config["version"]


def test_a_changed_precached_file_gives_a_new_worker_version(app, client, monkeypatch, tmp_path):
    import shutil

    _as(client, "kk")
    before = _worker_config(client.get("/sw.js").text)["version"]
    # A release is a new static folder (the worker's digest is read once per folder).
    released = tmp_path / "static"
    shutil.copytree(app.static_folder, released)
    (released / "pwa" / "app.js").write_text("// the next release\n", encoding="utf-8")
    monkeypatch.setattr(app, "static_folder", str(released))
    assert _worker_config(client.get("/sw.js").text)["version"] != before


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_the_manifest_is_translated_and_installable(app, client, lang):
    _as(client, lang)
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.text)
    assert manifest["name"] == translated(app, "Citizen Incentive Portal", lang)
    assert manifest["short_name"] == translated(app, "Patrol", lang)
    assert manifest["lang"] == lang
    assert manifest["start_url"] == "/app" and manifest["display"] == "standalone"
    with client.get("/static/css/portal.css") as stylesheet:
        css = stylesheet.text
    colour = re.search(r"\.bg-portal \{ background-color: (#[0-9a-f]{6}); \}", css).group(1)
    assert manifest["theme_color"] == colour
    sizes = set()
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as answer:
            assert answer.status_code == 200 and answer.mimetype == "image/png"
            picture = Image.open(io.BytesIO(answer.data))
            assert f"{picture.width}x{picture.height}" == icon["sizes"]
            sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
