"""The dashboard in a real browser: headless Chromium over real HTTP to uvicorn on loopback."""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboard.conftest import TOKEN

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(dash_app: FastAPI) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(dash_app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM.exists() and DRIVER.exists()):
        pytest.fail("install the browser: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait(browser: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    return WebDriverWait(browser, 30)


def png_size_and_colours(data: bytes) -> tuple[int, int, int]:
    """Width, height and a count of distinct scanline bytes from a PNG (no imaging library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, pos = b"", 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        if data[pos + 4 : pos + 8] == b"IDAT":
            chunks += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, len(set(zlib.decompress(chunks)))


@pytest.mark.slow
def test_sign_in_see_top_issues_and_a_chart(
    server: str, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    browser.get(server + "/")
    assert browser.current_url.endswith("/login")  # nothing shown before signing in
    browser.find_element(By.ID, "token").send_keys("wrong")
    browser.find_element(By.ID, "sign-in").click()
    error = wait(browser).until(ec.presence_of_element_located((By.ID, "error")))
    assert "not right" in error.text
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "sign-in").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "top-issues")))
    assert browser.current_url == server + "/"
    rows = browser.find_elements(By.CSS_SELECTOR, "#top-issues tr")
    assert len(rows) == 1 + 8  # header + the sample config's top 8
    assert "#206" in rows[1].text and "a maintainer" in rows[1].text
    cookie = browser.get_cookie("smolbot_session")
    assert cookie is not None and cookie["httpOnly"]

    browser.get(server + "/models")
    charts = browser.find_elements(By.CSS_SELECTOR, "#charts svg")
    assert len(charts) == 3
    assert len(charts[0].find_elements(By.CSS_SELECTOR, "circle")) == 5  # one point per day
    shot = tmp_path / "models.png"
    assert browser.save_screenshot(str(shot))
    width, height, colours = png_size_and_colours(shot.read_bytes())
    assert width >= 800 and height >= 600
    assert colours > 20  # not a blank page

    browser.get(server + "/audit?outcome=dry-run")
    audit = browser.find_element(By.ID, "audit").text
    assert "stale: no answer" in audit and "looks like a bug" not in audit


@pytest.mark.slow
def test_the_sign_out_button_signs_out(server: str, browser: webdriver.Chrome) -> None:
    """The browser marks the button's POST same-origin (Sec-Fetch-Site): it is let through."""
    browser.get(server + "/login")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "sign-in").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "top-issues")))
    browser.find_element(By.CSS_SELECTOR, "header form button").click()
    wait(browser).until(ec.url_to_be(server + "/login"))
    assert browser.get_cookie("smolbot_session") is None
    browser.get(server + "/")
    assert browser.current_url == server + "/login"
