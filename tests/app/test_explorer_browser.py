"""A real browser on the page: headless Chromium presses Generate and waits for the ladder.

Uses the system Chromium and chromedriver (:mod:`anytime_audio.app.browser`;
never a downloaded browser); skipped, with the reason, when either is missing.
The screenshot goes to ``build/test-artifacts/explorer_generate.png``
(``build/`` is git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anytime_audio.app.actions import LADDER
from anytime_audio.app.browser import find_chromium, headless_chromium, press_generate

pytest.importorskip("selenium", reason="selenium is not installed: pip install -e '.[demo]'")
pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no system Chromium/chromedriver: "
                                "apt-get install chromium chromium-driver (tools/setup.sh does, as root)")
SCREENSHOT = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "explorer_generate.png"


@pytest.fixture
def browser(tmp_path):
    driver = headless_chromium(tmp_path / "profile")
    yield driver
    driver.quit()


def test_generate_in_a_browser_ends_with_the_ladder(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ladder = press_generate(browser, served)
    pictures = ladder.find_elements(By.CSS_SELECTOR, "img")
    assert len(pictures) == len(LADDER)
    assert all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
               for img in pictures)
    for (_, name), codes in zip(LADDER, (1, 2, 4, 8)):
        assert f"{codes} of 8 codes" in ladder.text
        player = ladder.find_element(By.CSS_SELECTOR, f'[data-testid="waveform-{name} of the codes"]')
        WebDriverWait(browser, 30).until(lambda d: "0:01" in player.text)  # loaded: the player knows its 1 s
    links = [a.get_attribute("href") for a in ladder.find_elements(By.CSS_SELECTOR, "a[data-testid=download-link]")]
    assert len(links) == len(LADDER) and all(link.endswith(".wav") for link in links)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
