"""`voiceflow serve` from the clients users have: OpenAI's own Python package
against /v1/audio/transcriptions, and the live page in headless Chromium with
a fake microphone playing a fixture.

The program comes from VOICEFLOW_BIN (`make test-python` sets it) or
target/debug/voiceflow. The WebSocket protocol itself is tested from Rust
(tests/serve.rs)."""

from __future__ import annotations

import os
import re
import subprocess
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from conftest import REPO, SPEECH, TINY_EN, manifest, word_errors

TOKEN = "python-test-token-41d"
# One wrong word in a short sentence passes, as in the Rust tests.
MAX_WORD_ERRORS = 1


def program() -> Path:
    path = Path(os.environ.get("VOICEFLOW_BIN", REPO / "target" / "debug" / "voiceflow"))
    assert path.exists(), f"{path} missing: build it with `cargo build --bin voiceflow`"
    return path


class Served:
    """A `voiceflow serve` process on a free loopback port."""

    def __init__(self, tmp: Path) -> None:
        tokens = tmp / "tokens"
        tokens.write_text(f"{TOKEN}\n")
        self.log = (tmp / "serve.log").open("w+")
        self.process = subprocess.Popen(
            [program(), "serve", "--listen", "127.0.0.1:0", "--threads", "2",
             "--model", TINY_EN, "--token-file", tokens],
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "ORT_DYLIB_PATH": str(REPO / "runtime" / "libonnxruntime.so")},
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.write(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise AssertionError(f"voiceflow serve did not start: {self.logs()}")

    def logs(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        finally:
            self.process.kill()
            self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(tmp_path_factory.mktemp("serve"))
    yield served
    served.stop()
    assert served.process.returncode == 0, "SIGTERM ends the server cleanly"


def client(server: Served, key: str = TOKEN) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120)


def test_openai_client_transcribes_a_fixture(server: Served) -> None:
    expected = manifest()["report.wav"]
    with open(SPEECH / "report.wav", "rb") as f:
        result = client(server).audio.transcriptions.create(model="whisper-1", file=f)
    assert word_errors(expected, result.text) <= MAX_WORD_ERRORS, result.text

    with open(SPEECH / "weather.wav", "rb") as f:
        verbose = client(server).audio.transcriptions.create(
            model="whisper-1", file=f, response_format="verbose_json", language="en",
        )
    assert word_errors(manifest()["weather.wav"], verbose.text) <= MAX_WORD_ERRORS
    assert verbose.language == "en"
    assert verbose.segments and verbose.segments[0].start == 0.0
    assert 3.0 < verbose.duration < 6.0

    with open(SPEECH / "door.wav", "rb") as f:
        text = client(server).audio.transcriptions.create(
            model="whisper-1", file=f, response_format="text",
        )
    assert isinstance(text, str) and word_errors(manifest()["door.wav"], text) <= MAX_WORD_ERRORS

    models = client(server).models.list()
    assert [m.id for m in models.data] == ["whisper-1"]


def test_openai_client_gets_typed_errors(server: Served, tmp_path: Path) -> None:
    with open(SPEECH / "door.wav", "rb") as f:
        with pytest.raises(openai.AuthenticationError):
            client(server, key="wrong").audio.transcriptions.create(model="whisper-1", file=f)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40))
    with open(corrupt, "rb") as f, pytest.raises(openai.BadRequestError) as error:
        client(server).audio.transcriptions.create(model="whisper-1", file=f)
    assert "corrupt audio file" in str(error.value)


def fake_microphone(tmp: Path) -> Path:
    """report.wav followed by 2 s of silence (Chromium loops the file), so
    the detector hears the utterance end and a final comes."""
    with wave.open(str(SPEECH / "report.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    path = tmp / "microphone.wav"
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(frames + bytes(2 * params.sampwidth * params.framerate))
    return path


def test_live_page_shows_the_words_heard_by_the_microphone(
    server: Served, tmp_path: Path,
) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in [
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={fake_microphone(tmp_path)}",
        "--autoplay-policy=no-user-gesture-required",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    expected = manifest()["report.wav"]
    try:
        driver.get(f"{server.url}/?token={TOKEN}&context=email&autostart=1")
        finals = enhanced = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            finals = driver.find_element(By.ID, "finals").text
            enhanced = driver.find_element(By.ID, "enhanced").text
            if finals and enhanced:
                break
            time.sleep(0.25)
        out = Path(os.environ.get("VOICEFLOW_TEST_OUTPUT", REPO / "target" / "test-logs"))
        out.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out / "live-page.png"))
        status = driver.find_element(By.ID, "status").text
        assert finals, f"no final text on the page (status: {status!r})"
        # The first utterance heard is the fixture (the file loops: count
        # only its own words).
        first = " ".join(finals.split()[: len(expected.split())])
        assert word_errors(expected, first) <= MAX_WORD_ERRORS, finals
        assert enhanced, "the email context's enhanced text is shown"
        driver.find_element(By.ID, "stop").click()
        deadline = time.monotonic() + 60
        while "Done" not in driver.find_element(By.ID, "status").text:
            assert time.monotonic() < deadline, driver.find_element(By.ID, "status").text
            time.sleep(0.25)
    finally:
        driver.quit()
