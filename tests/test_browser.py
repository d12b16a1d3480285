"""The Executive Group's page in a real browser, offline: headless Chromium (Debian's
``chromium`` package) driven by playwright, with every network request blocked."""

from __future__ import annotations

import pytest
from conftest import needs_chromium

pytestmark = [
    pytest.mark.e2e,
    needs_chromium("browser"),
]


@pytest.mark.parametrize(
    "page_name", ["executive-summary.html", "index.html", "02-findings-by-kloe.html"]
)
def test_page_renders_offline_with_every_image_loaded_and_described(browser, run, page_name):
    out, _ = run
    context = browser.new_context(offline=True, java_script_enabled=True)
    requests: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            requests.append(route.request.url),
            route.continue_()
            if route.request.url.startswith(("file:", "data:"))
            else route.abort(),
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((out / page_name).as_uri(), wait_until="load")
    assert page.locator("h1").first.inner_text().strip()
    images = page.locator("img")
    for i in range(images.count()):
        image = images.nth(i)
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"image {i}"
        assert len(image.get_attribute("alt") or "") > 40, f"image {i} lacks alt text"
    if page_name != "index.html":
        assert images.count() > 0
    assert page.locator("script").count() == 0
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert outside == [], f"requests left the page: {outside}"
    assert errors == []
    context.close()


def test_executive_page_has_a_titled_table_behind_each_chart(browser, run):
    out, _ = run
    page = browser.new_page()
    page.goto((out / "executive-summary.html").as_uri())
    figures = page.locator("figure.chart")
    assert figures.count() >= 3
    for i in range(figures.count()):
        assert figures.nth(i).locator(".chart-title").inner_text().strip()
    assert page.locator("details table").count() == figures.count()
    page.close()
