"""End-to-end: the page in headless Chromium against a live server (skipped only without chromium)."""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "playground"

pytestmark = pytest.mark.browser

READY = "window.playground && window.playground.frames > 0 && window.playground.data !== null"


def heatmap_digest(page) -> int:
    """A hash (FNV-1a) of the heatmap canvas's pixels, computed in the page."""
    return page.evaluate(
        """() => {
            const c = document.getElementById('heatmap');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let h = 2166136261;
            for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 16777619) >>> 0; }
            return h;
        }"""
    )


def test_change_activation_train_and_watch_the_loss_fall(page, live_server):
    page.goto(live_server + "#n_points=100&optimizer=adam&lr=0.03")
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_function("window.playground.settings.n_points === 100", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "01-loaded.png"), full_page=True)

    options = page.eval_on_selector_all(
        "select.activation[data-layer='0'] option", "os => os.map(o => o.value)"
    )
    assert "sigmoid" in options and "tanh" in options
    page.select_option("select.activation[data-layer='0']", "sigmoid")
    page.wait_for_function("window.playground.settings.activations[0] === 'sigmoid'", timeout=10_000)
    page.wait_for_function("document.getElementById('plot-name').textContent === 'sigmoid'", timeout=10_000)
    page.wait_for_function("window.playground.last.epoch === 0", timeout=10_000)
    assert "activations=sigmoid%2Ctanh" in page.evaluate("location.hash")
    before_digest = heatmap_digest(page)
    before_loss = page.evaluate("window.playground.last.train_loss")

    page.click("#play")
    page.wait_for_function("window.playground.last.epoch >= 20", timeout=60_000)
    page.click("#play")
    page.wait_for_function("!window.playground.last.playing", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "02-trained.png"), full_page=True)

    after_loss = page.evaluate("window.playground.last.train_loss")
    assert after_loss < 0.8 * before_loss
    assert heatmap_digest(page) != before_digest
    assert page.inner_text("#epoch") != "000,000"
    assert page.evaluate("window.playground.history.length") > 2
    assert page.errors == []


def test_link_reproduces_the_view_and_errors_are_shown(page, live_server):
    page.goto(
        live_server + "#dataset=blobs3&layers=3&activations=sigmoid&optimizer=adam&seed=4&showTest=true"
    )
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_function("window.playground.settings.dataset === 'blobs3'", timeout=10_000)
    settings = page.evaluate("window.playground.settings")
    assert settings["layers"] == [3] and settings["activations"] == ["sigmoid"] and settings["seed"] == 4
    assert page.is_checked("#show-test")
    assert page.evaluate("window.playground.data.n_classes") == 3
    page.click("#step")
    page.wait_for_function("window.playground.last.epoch === 1", timeout=20_000)
    assert page.inner_text("#output-kind") == "softmax"
    page.screenshot(path=str(ARTIFACTS / "03-three-classes.png"), full_page=True)

    # an out-of-range value from a hand-edited link: the page shows the server's message by the control
    page.evaluate("location.hash = '#lr=50'")
    page.wait_for_selector("#errors:not([hidden])", timeout=10_000)
    assert "lr" in page.inner_text("#errors") and "out of range" in page.inner_text("#errors")
    assert page.is_visible(".field[data-field='lr'] .field-error")
    assert page.evaluate("window.playground.settings.optimizer") == "adam"  # nothing changed
    page.screenshot(path=str(ARTIFACTS / "04-error.png"), full_page=True)


def test_layers_and_neurons_can_be_added(page, live_server):
    page.goto(live_server)
    page.wait_for_function(READY, timeout=30_000)
    page.click("#add-layer")
    page.wait_for_function("window.playground.settings.layers.length === 3", timeout=10_000)
    page.click(".layer-controls[data-layer='0'] .add-neuron")
    page.wait_for_function("window.playground.settings.layers[0] === 5", timeout=10_000)
    page.wait_for_function("window.playground.last.neurons[0].length === 5", timeout=10_000)
    assert page.evaluate("window.playground.last.weights.length") == 4
