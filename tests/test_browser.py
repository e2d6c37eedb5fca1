"""The browser check itself finds what it must: a missing image, a broken link, a missing anchor."""

import base64

from browser import check_page, screenshot

# a 1×1 PNG
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def test_broken_images_and_links_are_found(tmp_path):
    (tmp_path / "ok.png").write_bytes(PIXEL)
    (tmp_path / "other.html").write_text("<html><body>x</body></html>")
    (tmp_path / "index.html").write_text(
        '<html><body><h1 id="top">t</h1><img src="ok.png"><img src="missing.png">'
        '<a href="other.html">fine</a><a href="gone.html">gone</a><a href="#top">up</a><a href="#nowhere">no</a>'
        '<a href="https://example.org/">external</a></body></html>')
    seen = check_page(tmp_path / "index.html")
    assert [i["src"] for i in seen["images"]] == ["ok.png", "missing.png"]
    assert seen["broken_images"] == ["missing.png"]
    assert seen["broken_links"] == ["gone.html", "#nowhere"]
    assert screenshot(tmp_path / "index.html", tmp_path / "shot.png", height=400).stat().st_size > 500
