"""voiceflow.ray: corpus transcription on Ray Data, on a local Ray and on a
two-node cluster started with `ray start` on this machine.

Ray is kept small (2 CPUs, 200 MB object store locally; 1 CPU and 100 MB per
node for the cluster). A missing Ray fails these tests rather than skipping them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SPEECH, TINY_EN, manifest, word_errors

VENV_BIN = Path(sys.executable).parent
COLUMNS = [
    "path",
    "text",
    "segments",
    "language",
    "language_probability",
    "duration_s",
    "timings",
    "enhanced",
    "error",
    "actor",
    "node",
]
TIMINGS = ["decode_audio_s", "mel_s", "encoder_s", "decoder_s", "total_s"]


def spoken(name: str) -> str:
    """The manifest's text for a fixture; calling_8k.wav etc. say calling.wav's words."""
    texts = manifest()
    return texts.get(name) or texts[name.split("_")[0] + ".wav"]


FIXTURES = sorted(p.name for p in SPEECH.glob("*.wav"))


@pytest.fixture(scope="module")
def vray(voiceflow):
    """voiceflow.ray, whose import needs Ray Data (the `ray` extra)."""
    try:
        import voiceflow.ray as vray
    except ImportError as error:
        pytest.fail(f"voiceflow.ray cannot be imported (scripts/setup.sh venv-dev installs Ray): {error}")
    return vray


@pytest.fixture(scope="module")
def local_ray(vray) -> Iterator[Any]:
    """A small local Ray for this module, shut down at its end."""
    import ray

    temp = tempfile.mkdtemp(prefix="vfray-")  # short: Ray's socket paths have a length limit
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        _temp_dir=temp,
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Copies of the speech fixtures, a random-bytes WAV, a header-only WAV and a
    text file (which the folder listing leaves out)."""
    folder = tmp_path_factory.mktemp("corpus")
    for name in FIXTURES:
        shutil.copy(SPEECH / name, folder / name)
    (folder / "corrupt.wav").write_bytes(os.urandom(4096))
    (folder / "truncated.wav").write_bytes((SPEECH / "report.wav").read_bytes()[:44])
    (folder / "notes.txt").write_text("not audio\n")
    return folder


@pytest.fixture(scope="module")
def email_run(vray, local_ray, corpus, tmp_path_factory) -> tuple[str, list[dict[str, Any]]]:
    """The corpus through 2 actors with context="email", into Parquet."""
    import pyarrow.parquet as pq

    output = tmp_path_factory.mktemp("out") / "transcripts.parquet"
    written = vray.transcribe_dataset(
        corpus, TINY_EN, actors=2, context="email", output=output, batch_size=1
    )
    assert written == str(output)
    return written, pq.read_table(written).to_pylist()


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(row["path"]).name: row for row in rows}


def check_words(rows: dict[str, dict[str, Any]]) -> None:
    for name in FIXTURES:
        row = rows[name]
        assert row["error"] is None, (name, row["error"])
        # tiny.en drops an "a" here and there: one word off per sentence passes
        # (as in test_bindings_engine.py).
        assert word_errors(spoken(name), row["text"]) <= 1, (name, row["text"])


def test_importing_voiceflow_does_not_import_ray():
    code = "import sys, voiceflow; print('ray' in sys.modules, 'voiceflow.ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_every_fixture_comes_back_with_its_words(email_run):
    _, rows = email_run
    named = by_name(rows)
    assert set(named) == set(FIXTURES) | {"corrupt.wav", "truncated.wav"}  # no notes.txt
    check_words(named)
    for name in FIXTURES:
        row = named[name]
        assert row["language"] == "en" and row["language_probability"] == 1.0
        assert 2.0 < row["duration_s"] < 10.0
        assert row["segments"] and set(row["segments"][0]) == {"start", "end", "text"}
        assert " ".join(s["text"].strip() for s in row["segments"]) == row["text"].strip()
        assert 0.0 <= row["segments"][0]["start"] < row["segments"][-1]["end"] <= row["duration_s"] + 0.5
        assert 0.0 < row["timings"]["encoder_s"] <= row["timings"]["total_s"]


def test_corrupt_files_become_error_rows(email_run):
    _, rows = email_run
    named = by_name(rows)
    for name in ["corrupt.wav", "truncated.wav"]:
        row = named[name]
        assert row["error"].startswith("InvalidAudioError: "), row
        assert {k for k, v in row.items() if v is not None} == {"path", "error", "actor", "node"}, row
    assert sum(row["error"] is not None for row in rows) == 2


def test_two_actors_at_most(email_run):
    _, rows = email_run
    actors = {row["actor"] for row in rows}
    assert 1 <= len(actors) <= 2, actors
    assert all(isinstance(a, str) and a for a in actors)
    assert len({row["node"] for row in rows}) == 1


def test_parquet_has_the_documented_columns(vray, email_run):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, _ = email_run
    schema = pq.read_schema(path)
    assert schema.names == COLUMNS
    assert schema.equals(vray.SCHEMA)
    assert schema.field("segments").type == pa.list_(
        pa.struct([("start", pa.float64()), ("end", pa.float64()), ("text", pa.string())])
    )
    assert [f.name for f in schema.field("timings").type] == TIMINGS


def test_email_context_fills_enhanced(voiceflow, email_run):
    _, rows = email_run
    enhancer = voiceflow.Enhancer()
    for row in rows:
        if row["error"] is None:
            assert row["enhanced"] == enhancer.enhance(row["text"], "email").text, row


def test_a_ray_dataset_in_one_actor_out(vray, local_ray, corpus):
    # Ray's own reader makes the `bytes` and `path` columns; no context, no enhanced.
    files = [str(corpus / name) for name in FIXTURES]
    dataset = local_ray.data.read_binary_files(files, include_paths=True)
    rows = vray.transcribe_dataset(dataset, TINY_EN, actors=1, batch_size=2)
    assert isinstance(rows, local_ray.data.Dataset)
    taken = rows.take_all()
    assert sorted(taken[0]) == sorted(COLUMNS)
    named = by_name(taken)
    assert set(named) == set(FIXTURES)
    check_words(named)
    assert all(row["enhanced"] is None for row in taken)
    assert len({row["actor"] for row in taken}) == 1


def test_a_missing_file_in_a_list_is_an_error_row(vray, local_ray, corpus):
    files = [corpus / "report.wav", corpus / "missing.wav"]
    rows = by_name(vray.transcribe_dataset(files, TINY_EN).take_all())
    assert rows["report.wav"]["error"] is None
    assert rows["missing.wav"]["error"].startswith("FileNotFoundError: "), rows["missing.wav"]
    assert rows["missing.wav"]["text"] is None


def test_bad_arguments_fail_before_any_work(vray, corpus, tmp_path):
    with pytest.raises(ValueError, match="context"):
        vray.transcribe_dataset(corpus, TINY_EN, context="poetry")
    with pytest.raises(ValueError, match="actors"):
        vray.transcribe_dataset(corpus, TINY_EN, actors=0)
    with pytest.raises(FileNotFoundError):
        vray.transcribe_dataset(tmp_path / "nowhere", TINY_EN)
    out = tmp_path / "out.parquet"
    for args, message in [
        ([str(corpus), str(out)], "--model"),
        ([str(corpus), str(out), "--model", str(tmp_path / "no-model")], "no such folder"),
        ([str(tmp_path / "nowhere"), str(out), "--model", str(TINY_EN)], "no such file"),
        ([str(corpus), str(out), "--model", str(TINY_EN), "--actors", "0"], "at least 1"),
        ([str(corpus), str(out), "--model", str(TINY_EN), "--context", "poetry"], "invalid choice"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "voiceflow.ray", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
    assert not out.exists()


# --- two nodes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A head and a worker node (`ray start --block`, each in its own session),
    stopped by signalling exactly those sessions' processes."""

    def __init__(self) -> None:
        self.temp = tempfile.mkdtemp(prefix="vfray-")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        # Token authentication with a token of this cluster's own.
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
        self.nodes: list[subprocess.Popen[bytes]] = []

    def _start(self, name: str, *args: str) -> None:
        common = [
            "--block",
            "--num-cpus=1",
            "--object-store-memory=100000000",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
            f"--dashboard-agent-listen-port={free_port()}",
        ]
        with open(os.path.join(self.temp, f"{name}.log"), "wb") as log:
            self.nodes.append(
                subprocess.Popen(
                    [str(VENV_BIN / "ray"), "start", *args, *common],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    start_new_session=True,
                )
            )

    def start(self) -> None:
        self._start(
            "head",
            "--head",
            f"--port={self.port}",
            '--resources={"head": 1}',
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            f"--temp-dir={self.temp}",
        )
        self._start("worker", f"--address={self.address}", '--resources={"worker": 1}')

    def wait_for_nodes(self, count: int, timeout: float = 120.0) -> dict[str, str]:
        """Node ids by their custom resource ("head", "worker") once `count` are alive."""
        code = f"""
import json, ray, time
ray.init(address={self.address!r}, log_to_driver=False)
deadline = time.monotonic() + {timeout}
while time.monotonic() < deadline:
    alive = [n for n in ray.nodes() if n["Alive"]]
    if len(alive) >= {count}:
        break
    time.sleep(0.5)
print(json.dumps({{r: n["NodeID"] for n in alive for r in ("head", "worker") if r in n["Resources"]}}))
"""
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=self.env, timeout=timeout + 60
        )
        assert done.returncode == 0, done.stdout + done.stderr + self.logs()
        nodes: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
        assert len(nodes) == count, (nodes, self.logs())
        return nodes

    def logs(self) -> str:
        return "".join(
            f"\n--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in Path(self.temp).glob("*.log")
        )

    def _members(self) -> list[int]:
        """Every live process in the nodes' sessions (Ray's workers included)."""
        sessions = {p.pid for p in self.nodes}
        members = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getsid(int(entry)) in sessions:
                        members.append(int(entry))
                except OSError:
                    pass
        return members

    def stop(self) -> None:
        # A throwaway cluster: a short SIGTERM grace (the GCS takes ~30 s to
        # stop on its own), then SIGKILL for whatever is left.
        for sig, grace in [(signal.SIGTERM, 2.0), (signal.SIGKILL, 20.0)]:
            for pid in self._members():
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and any(not is_zombie(p) for p in self._members()):
                time.sleep(0.2)
        for node in self.nodes:
            try:
                node.wait(10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.temp, ignore_errors=True)


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_the_cli_on_a_two_node_cluster(vray, corpus, tmp_path):
    import pyarrow.parquet as pq

    cluster = Cluster()
    try:
        cluster.start()
        nodes = cluster.wait_for_nodes(2)
        output = tmp_path / "two-nodes.parquet"
        command = [
            sys.executable, "-m", "voiceflow.ray", str(corpus), str(output),
            "--model", str(TINY_EN), "--actors", "2", "--batch-size", "1", "--address", cluster.address,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, env=cluster.env, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr + cluster.logs()
        summary = done.stdout.strip().splitlines()[-1]
        assert summary.startswith(f"voiceflow.ray: {len(FIXTURES) + 2} files, 2 errors, "), summary
        assert "audio s/s" in summary, summary

        rows = pq.read_table(output).to_pylist()
        named = by_name(rows)
        check_words(named)
        assert named["corrupt.wav"]["error"].startswith("InvalidAudioError: ")
        assert len({row["actor"] for row in rows}) == 2
        # One actor per node (each has 1 CPU, each actor takes 1), and the pool
        # starts work only once both are up, so both nodes transcribe.
        assert {row["node"] for row in rows} == set(nodes.values()), (nodes, rows)
    finally:
        cluster.stop()
    assert not [p for p in cluster._members() if not is_zombie(p)], "Ray processes left running"
