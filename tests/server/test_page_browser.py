"""The page in a real browser (headless Chromium, Selenium): a prime typed and Enter pressed,
the text streaming in coloured by a suggested unit in token_view's colours, each token's
alternatives on hover and from the keyboard, Stop freeing the server's row, a classified text
with its label and coloured tokens; with only a language model and an API key, the key asked
for once and the classify panel gone, saying why."""

import time

import pytest

from seqcli.lm.inspect_views import scale_of
from tests.server.browser import chromium, why_not
from tests.server.live import LiveServer, call, metric

pytestmark = pytest.mark.skipif(why_not() is not None, reason=f"no browser: {why_not()}")

if why_not() is None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select


def _wait(driver, script: str, seconds: float = 20):
    """The value of `script` (JavaScript, returned) once it is truthy."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        value = driver.execute_script("return " + script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def _state(driver, panel: str):
    return _wait(driver, f"['done', 'stopped', 'error'].includes("
                         f"document.getElementById('{panel}').dataset.state) && "
                         f"document.getElementById('{panel}').dataset.state")


def _rgba(style: str) -> tuple[int, int, int, float]:
    """`rgba(r, g, b, a)` (or rgb) as the browser reports a background colour."""
    numbers = style[style.index("(") + 1:-1].split(",")
    r, g, b = (int(n) for n in numbers[:3])
    return r, g, b, float(numbers[3]) if len(numbers) > 3 else 1.0


@pytest.fixture
def browser(tmp_path):
    try:
        driver = chromium(tmp_path / "profile")
    except WebDriverException as err:  # installed but unable to start here
        pytest.skip(f"chromium did not start: {str(err.msg).splitlines()[0]}")
    yield driver
    driver.quit()


def _generate_coloured(driver, prime: str) -> list:
    """Colour by the cell state of the first unit suggested for it, type the prime, press
    Enter: the token spans."""
    driver.find_element(By.ID, "colour").click()
    Select(driver.find_element(By.ID, "signal")).select_by_value("cell")
    _wait(driver, "document.getElementById('suggest').dataset.for.endsWith('/cell') && "
                  "document.querySelector('#suggest button')").click()
    driver.find_element(By.ID, "seed").send_keys("7")
    length = driver.find_element(By.ID, "length")
    length.clear()
    length.send_keys("80")
    driver.find_element(By.ID, "prime").send_keys(prime + Keys.ENTER)
    assert _state(driver, "lm") == "done"
    return driver.find_elements(By.CSS_SELECTOR, "#out span[data-k]")


def test_generate_and_classify_in_a_browser(server, browser, tmp_path):
    browser.get(server.base + "/")
    _wait(browser, "document.body.dataset.ready")
    prime = "the <b>time</b> "
    spans = _generate_coloured(browser, prime)
    out = browser.find_element(By.ID, "out")
    text = browser.execute_script("return arguments[0].textContent", out)
    assert text.startswith(prime) and len(text) > len(prime) + 20  # the prime as written
    assert not browser.find_elements(By.CSS_SELECTOR, "#out b")  # never read as HTML
    assert int(out.get_attribute("data-chunks")) >= 10  # streamed, not answered whole

    # the same request made here gives the same text, and the values the colours come from
    unit = int(browser.find_element(By.ID, "unit").get_attribute("value"))
    layer = int(browser.find_element(By.ID, "layer").get_attribute("value"))
    status, whole = call(server.base, "POST", "/v1/completions", {
        "prompt": prime, "max_tokens": 80, "seed": 7, "logprobs": 5,
        "trace": {"layer": layer, "signal": "cell", "units": [unit]}})
    assert status == 200 and text == prime + whole["choices"][0]["text"]
    values = [v[0] for v in whole["choices"][0]["trace"]["values"]]
    assert len(spans) == len(values) == 80
    scale = scale_of("cell", values)  # what `seqcli inspect` colours a cell state on
    for k in range(80):
        colour, opacity = scale.colour(values[k])
        r, g, b, a = _rgba(spans[k].value_of_css_property("background-color"))
        assert abs(a - round(opacity, 2)) < 0.01 and (a == 0 or (r, g, b) == colour)
    assert max(_rgba(s.value_of_css_property("background-color"))[3] for s in spans) == 1

    ActionChains(browser).move_to_element(spans[5]).perform()  # hover: value and top five
    details = browser.find_element(By.ID, "details")
    assert len(details.find_elements(By.CSS_SELECTOR, "li")) == 5
    assert f"unit {unit} (cell): {values[5]:+.4f}" in details.text and "%" in details.text
    out.send_keys(Keys.END)  # the keyboard walks the tokens too
    assert f"{values[79]:+.4f}" in details.text
    out.send_keys(Keys.ARROW_LEFT)
    assert f"{values[78]:+.4f}" in details.text
    assert browser.find_elements(By.CSS_SELECTOR, "#out span.cur") == [spans[78]]

    _classify(browser)
    browser.save_screenshot(str(tmp_path / "page.png"))
    _stop_frees_the_row(browser, server)
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def _classify(driver) -> None:
    """Enter classifies: the label, a probability per label, tokens coloured, the gap."""
    box = driver.find_element(By.ID, "cls-text")
    box.send_keys("<i>a lovely</i>")
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    box.send_keys("story" + Keys.ENTER)  # Shift+Enter: a new line; Enter: classify
    assert _state(driver, "clf") == "done"
    labels = ("negative", "positive")
    verdict = driver.find_element(By.ID, "verdict").text
    assert verdict.split()[0] in labels and verdict.endswith("%")
    assert len(driver.find_elements(By.CSS_SELECTOR, "#probs li")) == len(labels)
    shown = driver.find_element(By.ID, "cls-out")
    assert shown.text == "<i>a lovely</i>\nstory" and not shown.find_elements(By.TAG_NAME, "i")
    tokens = shown.find_elements(By.CSS_SELECTOR, "span[data-k]")
    assert tokens and any(_rgba(t.value_of_css_property("background-color"))[3] > 0.5
                          for t in tokens)  # the largest attribution has full colour
    assert "completeness gap" in driver.find_element(By.ID, "gap").text


def _stop_frees_the_row(driver, server) -> None:
    """A long generation, stopped once text has streamed in: the request is aborted and the
    server's row is free again."""
    driver.find_element(By.ID, "colour").click()  # off: plain text, the fastest stream
    length = driver.find_element(By.ID, "length")
    length.clear()
    length.send_keys("2048")
    before = metric(server.base, "seqcli_generated_tokens_total")
    driver.find_element(By.ID, "generate").click()
    _wait(driver, "document.getElementById('out').textContent.length > 60")
    driver.find_element(By.ID, "halt").click()
    assert _state(driver, "lm") == "stopped"
    shown = len(driver.find_element(By.ID, "out").text)
    assert shown < 2048 and "stopped after" in driver.find_element(By.ID, "gen-status").text
    until = time.monotonic() + 5
    while metric(server.base, "seqcli_running_rows") and time.monotonic() < until:
        time.sleep(0.05)
    assert metric(server.base, "seqcli_running_rows") == 0
    assert metric(server.base, "seqcli_generated_tokens_total") - before < 2048  # cut short


def test_only_a_language_model_behind_a_key(served_runs, browser):
    """The page asks for the key (a wrong one is refused, saying so), then shows the generate
    panel alone, with the reason the classify panel is missing; a reload does not ask again."""
    live = LiveServer([served_runs["lm"]], api_key="k3y")
    try:
        browser.get(live.base + "/")
        key = _wait(browser, "!document.getElementById('key').hidden && "
                             "document.getElementById('key-input')")
        assert browser.switch_to.active_element == key  # focused, ready to type
        key.send_keys("wrong" + Keys.ENTER)
        _wait(browser, "document.getElementById('key-note').textContent")
        assert "not valid" in browser.find_element(By.ID, "key-note").text
        key.send_keys("k3y" + Keys.ENTER)
        _wait(browser, "document.body.dataset.ready")
        assert browser.find_element(By.ID, "key").is_displayed() is False
        assert browser.find_element(By.ID, "clf").is_displayed() is False
        assert "No classifier is served" in browser.find_element(By.ID, "missing").text
        browser.find_element(By.ID, "prime").send_keys("他说 the " + Keys.ENTER)
        assert _state(browser, "lm") == "done"  # the completion carried the key
        out = browser.find_element(By.ID, "out")
        assert out.text.startswith("他说 the ") and len(out.text) > len("他说 the ")
        assert out.get_attribute("lang") == "zh"  # glyphs of the right regional form
        browser.refresh()  # the key is kept for the tab: not asked again
        _wait(browser, "document.body.dataset.ready")
        assert not browser.find_element(By.ID, "key").is_displayed()
    finally:
        live.close()
