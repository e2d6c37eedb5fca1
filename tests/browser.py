"""A report page rendered in headless Chromium (Debian's ``chromium``; no driver, no download).

:func:`check_page` copies the page beside itself with a probe script appended (same folder, so
relative image paths resolve the same), lets Chromium load it (``--dump-dom`` after the page's
``load`` event, virtual time), and reads back what the browser saw: every ``<img>`` with whether it
decoded (``naturalWidth > 0``) and every link. Links are then resolved here: a relative file must
exist, a ``#fragment`` must name an element id. :func:`screenshot` writes a PNG of the page for review.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

PROBE = """
<script>
window.addEventListener("load", function () {
  var out = {images: [], links: [], ids: []};
  document.querySelectorAll("img").forEach(function (img) {
    out.images.push({src: img.getAttribute("src"), ok: img.complete && img.naturalWidth > 0,
                     width: img.naturalWidth});
  });
  document.querySelectorAll("a[href]").forEach(function (a) { out.links.push(a.getAttribute("href")); });
  document.querySelectorAll("[id]").forEach(function (e) { out.ids.push(e.id); });
  var pre = document.createElement("pre");
  pre.id = "deepearth-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""
_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--allow-file-access-from-files", "--virtual-time-budget=15000", "--hide-scrollbars"]


def chromium() -> str:
    """The Chromium executable; skips the test (fails with ``DEEPEARTH_REQUIRE_CHROMIUM=1``, as in CI)
    when there is none."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    reason = "no chromium on PATH: bash scripts/install-chromium.sh"
    if os.environ.get("DEEPEARTH_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"{reason} (DEEPEARTH_REQUIRE_CHROMIUM=1)", pytrace=False)
    pytest.skip(reason)


def _run(args: list[str], timeout_s: float = 180) -> str:
    proc = subprocess.run([chromium(), *_ARGS, *args], capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout


def check_page(index: Path) -> dict:
    """What Chromium saw on ``index``: ``images`` (src, ok, width), ``broken_images``, ``links``,
    ``broken_links`` (relative files that do not exist, fragments without their id)."""
    index = Path(index).resolve()
    probe = index.with_name("_browser_probe.html")
    html = index.read_text()
    probe.write_text(html.replace("</body>", PROBE + "</body>") if "</body>" in html else html + PROBE)
    try:
        dom = _run(["--dump-dom", probe.as_uri()])
    finally:
        probe.unlink(missing_ok=True)
    match = re.search(r'<pre id="deepearth-probe">(.*?)</pre>', dom, re.S)
    if not match:
        raise RuntimeError(f"the probe did not run: the page did not finish loading ({dom[:300]!r})")
    seen = json.loads(match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    broken_links = []
    for href in seen["links"]:
        url = urlparse(href)
        if url.scheme in ("http", "https", "mailto"):
            continue  # external: not followed (no network at test time)
        if not url.path:
            if url.fragment and url.fragment not in seen["ids"]:
                broken_links.append(href)
            continue
        if not (index.parent / unquote(url.path)).exists():
            broken_links.append(href)
    seen["broken_images"] = [i["src"] for i in seen["images"] if not i["ok"]]
    seen["broken_links"] = broken_links
    return seen


def screenshot(index: Path, png: Path, width: int = 1280, height: int = 6000) -> Path:
    """A PNG of ``index`` as Chromium draws it (``width`` × ``height`` px window)."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={png}", f"--window-size={width},{height}", Path(index).resolve().as_uri()])
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png
