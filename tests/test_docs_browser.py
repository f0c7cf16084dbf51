"""The docs playground in a real browser, with no internet: /docs, "Try it out", 200."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.services import Services

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
    reason="needs Debian's chromium and chromium-driver (make browser installs them)",
)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    svc = Services(tmp_path_factory.mktemp("browser"))
    svc.start_api()
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,2000",
    ):
        options.add_argument(flag)  # fmt: skip
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_try_it_out_on_kl_divergence(api: Services, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    wait = WebDriverWait(browser, 30)
    browser.get(f"http://127.0.0.1:{api.port}/docs")
    operation = wait.until(
        ec.presence_of_element_located(
            (By.ID, "operations-measures-kl_divergence_v1_kl_divergence_post")
        )
    )
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(
        ec.element_to_be_clickable(
            (
                By.CSS_SELECTOR,
                "#operations-measures-kl_divergence_v1_kl_divergence_post .try-out__btn",
            )
        )
    ).click()
    wait.until(
        ec.element_to_be_clickable(
            (By.CSS_SELECTOR, "#operations-measures-kl_divergence_v1_kl_divergence_post .execute")
        )
    ).click()
    status = wait.until(
        ec.presence_of_element_located(
            (
                By.CSS_SELECTOR,
                "#operations-measures-kl_divergence_v1_kl_divergence_post .live-responses-table .response .response-col_status",
            )
        )
    )
    assert status.text.strip() == "200"
    body = operation.find_element(
        By.CSS_SELECTOR, ".live-responses-table .response-col_description pre"
    ).text
    assert '"value"' in body and '"unit": "bits"' in body
    # every asset came from the service itself
    sources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert sources and all(s.startswith(f"http://127.0.0.1:{api.port}/") for s in sources)
    browser.save_screenshot(str(api.tmp / "docs.png"))


def test_redoc_renders_offline(api: Services, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    browser.get(f"http://127.0.0.1:{api.port}/redoc")
    heading = WebDriverWait(browser, 30).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "h1"))
    )
    assert "Divergence service" in heading.text
