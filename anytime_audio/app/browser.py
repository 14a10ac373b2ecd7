"""The page in a real browser: headless system Chromium through selenium.

Used by the browser test (``tests/app/test_explorer_browser.py``) and by
``tools/bench_explorer.py --screenshot`` (the README's picture). Only the
system browser is used (Debian ``chromium`` + ``chromium-driver``, which
``tools/setup.sh`` installs as root): both paths are handed to selenium and
``SE_OFFLINE`` is set, so Selenium Manager never downloads anything.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def find_chromium() -> tuple[str, str] | None:
    """``(browser, driver)`` paths of the system Chromium, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def headless_chromium(profile_dir: str | os.PathLike, width: int = 1400, height: int = 2000):
    """A selenium driver on headless system Chromium with a fresh profile in ``profile_dir``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise OSError("no system Chromium: apt-get install chromium chromium-driver")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for a browser online
    options = Options()
    options.binary_location = found[0]
    for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=found[1]))


def press_generate(driver, url: str, timeout: float = 120.0):
    """Open the page, press Generate, wait for the ladder; returns the ladder element."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wait = WebDriverWait(driver, timeout)
    wait.until(ec.element_to_be_clickable((By.ID, "generate-button"))).click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "generate-status"), "Done in"))
    ladder = driver.find_element(By.ID, "ladder")
    wait.until(lambda d: len(ladder.find_elements(By.CSS_SELECTOR, "img")) >= 4)
    return ladder


def save_page_png(driver, path: str | os.PathLike, width: int = 1000, colors: int = 96) -> Path:
    """The whole page as a small PNG (scaled to ``width`` px, ``colors`` colours) for docs."""
    import base64
    import time

    from PIL import Image

    height = driver.execute_script("return Math.max(document.body.scrollHeight, "
                                   "document.documentElement.scrollHeight)")
    driver.set_window_size(driver.get_window_size()["width"], int(height) + 80)
    time.sleep(1.0)  # let the page lay itself out at the new size
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path
