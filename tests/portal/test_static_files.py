"""Static files under addresses that name their content, kept by browsers for a year."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from portal import static_files
from tests.conftest import login_as

KEPT = f"public, max-age={static_files.MAX_AGE}, immutable"


def _addresses(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def _answer(client, address: str, **kwargs) -> tuple[int, str | None, str | None]:
    """The status, Cache-Control and ETag of ``address`` (the file closed again)."""
    with client.get(address, **kwargs) as answer:
        return answer.status_code, answer.headers.get("Cache-Control"), answer.headers.get("ETag")


def test_every_static_address_on_a_page_names_the_files_content(app, client):
    page = client.get("/login").text
    addresses = _addresses(page)
    assert len(addresses) >= 6  # stylesheets, icon, scripts
    for address in addresses:
        path, version = re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]{12})", address).groups()
        content = (Path(app.static_folder) / path).read_bytes()
        assert version == hashlib.sha256(content).hexdigest()[:12], address


def test_a_named_version_is_kept_for_a_year_and_anything_else_is_revalidated(client):
    (address,) = [a for a in _addresses(client.get("/login").text) if "portal.css" in a]
    status, cache, etag = _answer(client, address)
    assert status == 200 and cache == KEPT
    # The browser's own revalidation of it (a 304) says the same.
    assert _answer(client, address, headers={"If-None-Match": etag})[:2] == (304, KEPT)
    # An old address (a page of the previous release) or none: revalidated, never kept.
    for other in ("/static/css/portal.css?v=000000000000", "/static/css/portal.css"):
        assert _answer(client, other)[:2] == (200, "no-cache")
    # Nothing outside the static folder is read, with or without a version.
    assert _answer(client, "/static/../portal/__init__.py?v=0")[0] == 404
    assert _answer(client, "/static/nothing.css?v=0")[0] == 404


def test_a_static_answer_carries_no_session(client):
    """With ``Vary: Cookie`` a browser would keep a file only until the session cookie changes."""
    login_as(client, "volunteer@demo.kz")
    (address,) = [a for a in _addresses(client.get("/my").text) if "portal.css" in a]
    with client.get(address) as answer:
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == KEPT
        assert "Set-Cookie" not in answer.headers
        assert "cookie" not in answer.headers.get("Vary", "").lower()
    # Pages still carry it, and the session goes on.
    assert "cookie" in client.get("/my").headers.get("Vary", "").lower()
    assert client.get("/my").status_code == 200


def test_a_changed_file_gets_a_new_address(app, client, monkeypatch, tmp_path):
    before = [a for a in _addresses(client.get("/login").text) if "portal.css" in a]
    released = tmp_path / "static"  # a release, or a stylesheet edited on a developer's machine
    shutil.copytree(app.static_folder, released)
    with open(released / "css" / "portal.css", "a", encoding="utf-8") as css:
        css.write("\n/* the next release */\n")
    monkeypatch.setattr(app, "static_folder", str(released))
    after = [a for a in _addresses(client.get("/login").text) if "portal.css" in a]
    assert after != before and after[0].split("?")[0] == before[0].split("?")[0]
    assert _answer(client, after[0])[:2] == (200, KEPT)
    assert _answer(client, before[0])[:2] == (200, "no-cache")


def test_a_release_reads_a_file_once_and_a_developers_server_sees_it_edited(tmp_path):
    folder, css = str(tmp_path), tmp_path / "site.css"
    css.write_text("a { color: red; }\n", encoding="utf-8")
    released = static_files.version(folder, "site.css")
    watched = static_files.version(folder, "site.css", watch=True)
    assert released == watched
    css.write_text("a { color: darkred; }\n", encoding="utf-8")  # edited in place
    assert static_files.version(folder, "site.css") == released  # a release: read once
    assert static_files.version(folder, "site.css", watch=True) != watched
    assert static_files.version(folder, "../site.css", watch=True) is None


def test_a_release_builds_each_static_address_once(client, monkeypatch):
    first = _addresses(client.get("/login").text)
    built = []
    original = static_files._static_url
    monkeypatch.setattr(
        static_files, "_static_url", lambda name: built.append(name) or original(name)
    )
    again = _addresses(client.get("/login").text)
    assert again == first and built == []  # the layout's addresses, not built again
    # Under another script root (the portal behind a path prefix) the address starts with it,
    # still without being built again: roots a request names are not kept one by one.
    page = client.get("/login", base_url="http://localhost/portal").text
    prefixed = re.findall(r'(?:href|src)="(/portal/static/[^"]+)"', page)
    assert prefixed == ["/portal" + a for a in first] and built == []
