"""Corpus transcription on Ray Data: many audio files, a pool of engines.

Install with the extra: ``pip install 'voiceflow[ray]'`` (``import voiceflow``
alone never imports Ray).

>>> from voiceflow.ray import transcribe_dataset
>>> transcribe_dataset("corpus/", "models/whisper-tiny.en", actors=4,
...                    output="transcripts.parquet")  # doctest: +SKIP
'transcripts.parquet'

Each actor of a fixed pool loads one :class:`voiceflow.Engine` (and one
:class:`voiceflow.Enhancer`) when it starts and keeps it for every batch it is
given. The actor reads its files itself, so a file that cannot be read or
decoded becomes a row with its ``error`` rather than a failed job, and audio
bytes never pass through Ray's object store.

The command line does the same::

    python -m voiceflow.ray corpus/ transcripts.parquet --model models/whisper-tiny.en \\
        --actors 4 [--threads-per-actor 1] [--language en] [--context email] \\
        [--address HOST:PORT]

Output rows (:data:`SCHEMA`, the same for error rows, whose result columns are
null):

``path``
    The file (a local path or a ``scheme://`` URI).
``text``, ``language``, ``language_probability``, ``duration_s``
    The transcript; ``duration_s`` is the audio's length in seconds.
``segments``
    A list of ``{start, end, text}`` (seconds, text).
``timings``
    ``{decode_audio_s, mel_s, encoder_s, decoder_s, total_s}`` in seconds.
``enhanced``
    The text finished by the rule enhancer for ``context``; null without one.
``error``
    Null, or ``"ErrorClassName: message"`` (e.g. ``InvalidAudioError: ...``).
``actor``, ``node``
    The Ray actor id and node id (hex) that processed the row: how many
    actors and nodes did the work.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

try:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.fs as pafs  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]
    import ray
    import ray.data
except ImportError as _missing:  # pragma: no cover - depends on the install
    raise ImportError(
        f"voiceflow.ray needs Ray Data ({_missing}); install it with: pip install 'voiceflow[ray]'"
    ) from _missing

import voiceflow

__all__ = ["CONTEXTS", "SCHEMA", "main", "transcribe_dataset"]

#: The enhancer's contexts, the values ``context`` takes.
CONTEXTS: tuple[str, ...] = ("general", "email", "chat", "document", "code")

_SEGMENT = pa.struct([("start", pa.float64()), ("end", pa.float64()), ("text", pa.string())])
_TIMINGS = pa.struct(
    [
        ("decode_audio_s", pa.float64()),
        ("mel_s", pa.float64()),
        ("encoder_s", pa.float64()),
        ("decoder_s", pa.float64()),
        ("total_s", pa.float64()),
    ]
)

#: The columns of :func:`transcribe_dataset`'s rows, in order.
SCHEMA: Any = pa.schema(
    [
        ("path", pa.string()),
        ("text", pa.string()),
        ("segments", pa.list_(_SEGMENT)),
        ("language", pa.string()),
        ("language_probability", pa.float64()),
        ("duration_s", pa.float64()),
        ("timings", _TIMINGS),
        ("enhanced", pa.string()),
        ("error", pa.string()),
        ("actor", pa.string()),
        ("node", pa.string()),
    ]
)

_Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _is_uri(path: str) -> bool:
    return "://" in path


def _fs_path(path: str) -> str:
    """The path a pyarrow filesystem takes for `path` (a URI less its scheme)."""
    return path.split("://", 1)[1] if _is_uri(path) else path


def _resolve(
    paths: _Paths, extensions: Sequence[str] | None, filesystem: Any
) -> tuple[list[str], Any]:
    """The files `paths` names (folders listed recursively, keeping files
    with one of `extensions`; named files always kept) and their filesystem."""
    if isinstance(paths, (str, os.PathLike)):
        items = [os.fspath(paths)]
    else:
        items = [os.fspath(p) for p in paths]
    if not items:
        raise ValueError("no input paths")
    items = [p if _is_uri(p) else os.path.abspath(p) for p in items]
    if filesystem is None:
        filesystem = pafs.FileSystem.from_uri(items[0])[0] if _is_uri(items[0]) else pafs.LocalFileSystem()
    suffixes = tuple("." + e.lower().lstrip(".") for e in extensions) if extensions is not None else None
    files: list[str] = []
    # A list of files is taken as it is (one missing becomes an error row);
    # a single path is looked at: a folder is listed, a missing path fails.
    if len(items) > 1:
        return items, filesystem
    path = items[0]
    info = filesystem.get_file_info(_fs_path(path))
    if info.type == pafs.FileType.NotFound:
        raise FileNotFoundError(2, "no such file or folder", path)
    if info.type != pafs.FileType.Directory:
        return [path], filesystem
    prefix = path.split("://", 1)[0] + "://" if _is_uri(path) else ""
    listed = filesystem.get_file_info(pafs.FileSelector(_fs_path(path), recursive=True))
    for entry in listed:
        if entry.type != pafs.FileType.File:
            continue
        if suffixes is None or entry.path.lower().endswith(suffixes):
            files.append(prefix + entry.path)
    if not files:
        raise FileNotFoundError(2, f"no files ending in {', '.join(suffixes or ())} under", path)
    return sorted(files), filesystem


class _Transcriber:
    """The map_batches UDF: one Engine (and Enhancer) per actor, loaded once."""

    def __init__(
        self,
        model_dir: str,
        threads: int,
        language: str | None,
        context: str | None,
        filesystem: Any,
    ) -> None:
        self.engine = voiceflow.Engine(model_dir, threads=threads)
        self.enhancer = voiceflow.Enhancer(workers=1) if context is not None else None
        self.language = language
        self.context = context
        self.filesystem = filesystem
        runtime = ray.get_runtime_context()
        self.actor = runtime.get_actor_id() or f"pid-{os.getpid()}"
        self.node = runtime.get_node_id()

    def _read(self, path: str) -> bytes:
        if self.filesystem is None:
            with open(path, "rb") as f:
                return f.read()
        with self.filesystem.open_input_stream(_fs_path(path)) as f:
            data: bytes = f.read()
            return data

    def _row(self, path: str, data: bytes | None) -> dict[str, Any]:
        row: dict[str, Any] = {name: None for name in SCHEMA.names}
        row.update(path=path, actor=self.actor, node=self.node)
        try:
            audio = self._read(path) if data is None else data
            t = self.engine.transcribe(audio, language=self.language)
            enhanced = None
            if self.enhancer is not None and self.context is not None:
                enhanced = self.enhancer.enhance(t.text, self.context).text  # type: ignore[arg-type]
        except Exception as error:  # every failure is the row's, never the job's
            row["error"] = f"{type(error).__name__}: {error}"
            return row
        timings = t.timings
        row.update(
            text=t.text,
            segments=[{"start": s.start, "end": s.end, "text": s.text} for s in t.segments],
            language=t.language,
            language_probability=t.language_probability,
            duration_s=t.duration_s,
            timings={
                "decode_audio_s": timings.decode_audio_s,
                "mel_s": timings.mel_s,
                "encoder_s": timings.encoder_s,
                "decoder_s": timings.decoder_s,
                "total_s": timings.total_s,
            },
            enhanced=enhanced,
        )
        return row

    def __call__(self, batch: Any) -> Any:
        names = batch.column_names
        if "path" not in names:
            raise ValueError(f"the dataset needs a 'path' column (and 'bytes', or files to read); it has {names}")
        paths = [str(p) for p in batch.column("path").to_pylist()]
        blobs: list[bytes | None] = (
            batch.column("bytes").to_pylist() if "bytes" in names else [None] * len(paths)
        )
        return pa.Table.from_pylist([self._row(p, b) for p, b in zip(paths, blobs)], schema=SCHEMA)


def transcribe_dataset(
    paths_or_dataset: _Paths | ray.data.Dataset,
    model_dir: str | os.PathLike[str],
    *,
    threads_per_actor: int = 1,
    actors: int = 1,
    language: str | None = None,
    context: str | None = None,
    output: str | os.PathLike[str] | None = None,
    batch_size: int = 4,
    file_extensions: Sequence[str] | None = ("wav",),
    filesystem: Any = None,
    actor_start_timeout_s: int = 600,
) -> ray.data.Dataset | str:
    """Transcribes many audio files with a fixed pool of `actors` Ray actors.

    `paths_or_dataset` is a file, a folder (listed recursively, keeping files
    ending in one of `file_extensions`; None keeps all), a list of files, or a
    URI of one of those on any filesystem pyarrow opens (``s3://bucket/corpus/``,
    ``gs://...``, ``hdfs://...``, ``abfs://...``; credentials as pyarrow finds
    them, or pass a ``pyarrow.fs.FileSystem`` as `filesystem`). It may also be
    a ``ray.data.Dataset`` with ``path`` and ``bytes`` columns, such as
    ``ray.data.read_binary_files(uri, include_paths=True)`` makes (any source
    Ray reads, then; a file Ray cannot read fails there, not here). On a
    cluster, local paths and `model_dir` must exist on every node.

    Each actor reserves `threads_per_actor` CPUs and runs one
    ``voiceflow.Engine(model_dir, threads=threads_per_actor)``, loaded once in
    the actor; batches of `batch_size` files go to whichever actor is free.
    `language` goes to ``Engine.transcribe``; `context` (one of
    :data:`CONTEXTS`) fills the ``enhanced`` column with the rule enhancer.
    Work starts once every actor is up, so it spreads over the whole pool; a
    pool the cluster cannot place within `actor_start_timeout_s` seconds
    fails the job (``GetTimeoutError``) instead of waiting for ever.

    A file that cannot be read or transcribed gives a row with its ``error``
    (see the module's documentation for the columns, :data:`SCHEMA`). Rows
    come in no particular order; join on ``path``.

    Without `output`, returns the lazy ``ray.data.Dataset`` of the rows. With
    it, runs the job and writes the rows, streamed to the driver, into the
    single Parquet file `output` (a local path or a pyarrow filesystem URI)
    and returns `output` as a string.
    """
    if actors < 1:
        raise ValueError(f"actors must be at least 1, not {actors}")
    if threads_per_actor < 1:
        raise ValueError(f"threads_per_actor must be at least 1, not {threads_per_actor}")
    if actor_start_timeout_s < 1:
        raise ValueError(f"actor_start_timeout_s must be at least 1, not {actor_start_timeout_s}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    if context is not None and context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; one of {', '.join(CONTEXTS)}")
    model = os.path.abspath(os.fspath(model_dir))

    if isinstance(paths_or_dataset, ray.data.Dataset):
        dataset, fs = paths_or_dataset, None
    else:
        files, fs = _resolve(paths_or_dataset, file_extensions, filesystem)
        # One block per batch, so that every batch can go to any actor.
        blocks = max(1, math.ceil(len(files) / batch_size))
        dataset = ray.data.from_items([{"path": p} for p in files], override_num_blocks=blocks)
        if isinstance(fs, pafs.LocalFileSystem) and filesystem is None:
            fs = None  # plain open() in the actor

    rows = dataset.map_batches(
        _Transcriber,
        fn_constructor_kwargs={
            "model_dir": model,
            "threads": threads_per_actor,
            "language": language,
            "context": context,
            "filesystem": fs,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        # A fixed pool; one batch in flight per actor keeps the actors evenly busy.
        compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
        num_cpus=threads_per_actor,
        udf_modifying_row_count=False,
    )
    # Start only once the whole pool is up (and fail if it never is).
    rows.context.wait_for_min_actors_s = actor_start_timeout_s
    if output is None:
        return rows
    return _write_parquet(rows, os.fspath(output))


def _write_parquet(rows: ray.data.Dataset, output: str) -> str:
    """Runs the job, writing its rows into one Parquet file as they arrive."""
    if _is_uri(output):
        fs, where = pafs.FileSystem.from_uri(output)
    else:
        fs, where = None, output
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with pq.ParquetWriter(where, SCHEMA, filesystem=fs) as writer:
        batch: Any  # a pyarrow.Table (pyarrow ships no types)
        for batch in rows.iter_batches(batch_format="pyarrow", batch_size=None):
            writer.write_table(batch.select(SCHEMA.names).cast(SCHEMA))
    return output


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m voiceflow.ray INPUT OUTPUT.parquet --model DIR``.

    Connects to the cluster at ``--address`` (else starts a local Ray),
    writes the Parquet file and prints one summary line; returns the exit
    status (2 for bad arguments).
    """
    parser = argparse.ArgumentParser(
        prog="python -m voiceflow.ray",
        description="Transcribe a folder, file or URI of audio files on Ray Data into a Parquet file.",
    )
    parser.add_argument("input", help="audio file, folder (listed recursively) or URI (s3://..., gs://...)")
    parser.add_argument("output", help="the Parquet file to write (a path or a URI)")
    parser.add_argument("--model", required=True, help="the converted Whisper model folder (on every node)")
    parser.add_argument("--actors", type=_positive, default=1, help="engines, one per Ray actor (default 1)")
    parser.add_argument(
        "--threads-per-actor", type=_positive, default=1, help="ONNX Runtime threads and CPUs per actor (default 1)"
    )
    parser.add_argument("--batch-size", type=_positive, default=4, help="files per task (default 4)")
    parser.add_argument("--language", default=None, help="spoken language (default: the model detects it)")
    parser.add_argument("--context", choices=CONTEXTS, default=None, help="also enhance the text for this context")
    parser.add_argument("--address", default=None, help="an existing Ray cluster (HOST:PORT or 'auto')")
    parser.add_argument(
        "--extensions",
        default="wav",
        help="comma-separated file endings kept when listing a folder (default wav; '*' keeps all)",
    )
    args = parser.parse_args(argv)

    if not os.path.isdir(args.model):
        parser.error(f"--model {args.model}: no such folder")
    extensions = None if args.extensions == "*" else [e for e in args.extensions.split(",") if e]
    try:
        files, _ = _resolve(args.input, extensions, None)
    except (FileNotFoundError, ValueError, OSError) as error:
        parser.error(f"input {args.input}: {error}")

    ray.init(address=args.address)
    try:
        started = time.perf_counter()
        transcribe_dataset(
            files,
            args.model,
            threads_per_actor=args.threads_per_actor,
            actors=args.actors,
            language=args.language,
            context=args.context,
            output=args.output,
            batch_size=args.batch_size,
            file_extensions=extensions,
        )
        wall = time.perf_counter() - started
    finally:
        ray.shutdown()
    table = pq.read_table(args.output, columns=["error", "duration_s"])
    errors = table.num_rows - table.column("error").null_count
    audio = sum(d for d in table.column("duration_s").to_pylist() if d is not None)
    print(
        f"voiceflow.ray: {table.num_rows} files, {errors} errors, {audio:.1f} s audio, "
        f"{wall:.1f} s wall, {audio / wall if wall > 0 else 0.0:.2f} audio s/s -> {args.output}"
    )
    return 0


if __name__ == "__main__":
    # Run the installed module's main, so that Ray pickles _Transcriber by
    # reference (voiceflow.ray._Transcriber), not as a class of __main__.
    from voiceflow.ray import main as _main

    sys.exit(_main())
