"""The 1280-pixel rule: a dashboard page read at 1280 x 800 scrolls neither the page nor any
part of it sideways, and nothing sticks out past the right edge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypedDict

if TYPE_CHECKING:
    from playwright.async_api import Page

WIDTH: Final = 1280
HEIGHT: Final = 800

# What sticks out: the page's own width, every box that scrolls sideways inside the page (a
# table in an `overflow-x: auto` figure fits the page but hides its last columns), and every
# rendered element whose right edge lies past the viewport.
_MEASURE: Final = """
() => {
  const width = window.innerWidth;
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.getAttribute('aria-label') ? '[' + e.getAttribute('aria-label') + ']' : '');
  const scrolling = [];
  const beyond = [];
  for (const e of document.querySelectorAll('body *')) {
    const style = getComputedStyle(e);
    if (['auto', 'scroll'].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1) {
      scrolling.push(name(e) + ' ' + e.scrollWidth + '>' + e.clientWidth);
    }
    const box = e.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && box.right > width + 1) {
      beyond.push(name(e) + ' right=' + Math.round(box.right));
    }
  }
  return {page: document.documentElement.scrollWidth, scrolling, beyond: beyond.slice(0, 10)};
}
"""


class Overflow(TypedDict):
    page: int
    scrolling: list[str]
    beyond: list[str]


async def overflow(page: Page) -> Overflow:
    """What of `page` does not fit its viewport's width (empty lists and page <= width: fits)."""
    found: Overflow = await page.evaluate(_MEASURE)
    return found


async def assert_fits(page: Page, what: str) -> None:
    assert page.viewport_size is not None
    assert page.viewport_size["width"] == WIDTH, "measure at a 1280-pixel viewport"
    found = await overflow(page)
    assert found["page"] <= WIDTH, (what, found)
    assert found["scrolling"] == [], (what, found)
    assert found["beyond"] == [], (what, found)
