"""B7: generation speed through the managed llama.cpp server vs llama-cpp-python in-process.

The server side is what the plugin runs for an embedded model: ``LocalServer`` (the
``llama_cpp.server`` process the plugin starts, with the plugin's default ``n_ctx`` and
thread count) reached through the ``openai`` client by ``LocalChatModel`` (no recording).
The in-process side loads the same GGUF with ``llama_cpp.Llama`` and the settings the
server passes for a chat model (``n_ctx``, ``n_threads``, ``n_threads_batch``, ``n_batch``,
``n_ubatch``, ``use_mmap``, ``use_mlock``, ``logits_all=False``). Both answer the same
prompt with the same sampling (temperature 0, fixed ``max_tokens``); tokens/s is
completion tokens / wall seconds of the call. One warm-up call each, then the sides
alternate; each rep's ratio is server tokens/s / in-process tokens/s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import _common

ROW = "B7"
WHAT = "tokens/s, qwen2.5-coder-0.5b: managed llama.cpp server / llama-cpp-python in-process"
TARGET = ">= 0.8"
DEFAULT_REPS = 3
MODEL = "qwen2.5-coder-0.5b"
MAX_TOKENS = 128
PROMPT = (
    "Write a Python function that reads a CSV file and returns the average of every "
    "numeric column. Explain each step of the code in detail."
)
# The same sampling on both sides (the server's request defaults differ from Llama's).
SAMPLING = {
    "temperature": 0,
    "top_p": 0.95,
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.0,
    "seed": 0,
    "max_tokens": MAX_TOKENS,
}
ROOT = Path(__file__).resolve().parent.parent


def _settings() -> Any:
    from pytest_xgen.settings.config import Settings

    return Settings(rootpath=ROOT)


def in_process(path: Path, n_ctx: int, n_threads: int) -> Any:
    """``llama_cpp.Llama`` with the settings ``LocalServer`` gives the server for a chat
    model (its other settings are the server's defaults, read from its ``ModelSettings``)."""
    import llama_cpp
    from llama_cpp.server.settings import ModelSettings

    server = ModelSettings(
        model=str(path),
        n_ctx=n_ctx,
        n_threads=n_threads,
        n_threads_batch=n_threads,
        verbose=False,
        logits_all=False,
    )
    return llama_cpp.Llama(
        model_path=str(path),
        n_ctx=server.n_ctx,
        n_threads=server.n_threads,
        n_threads_batch=server.n_threads_batch,
        n_batch=server.n_batch,
        n_ubatch=server.n_ubatch,
        n_gpu_layers=server.n_gpu_layers,
        use_mmap=server.use_mmap,
        use_mlock=server.use_mlock,
        seed=server.seed,
        logits_all=server.logits_all,
        offload_kqv=server.offload_kqv,
        flash_attn=server.flash_attn,
        last_n_tokens_size=server.last_n_tokens_size,
        chat_format=server.chat_format,
        verbose=False,
    )


def run(reps: int, max_tokens: int = MAX_TOKENS) -> dict[str, Any]:
    from pytest_xgen.models.local import LocalChatModel, LocalServer, model_path

    settings = _settings()
    models_dir = settings.path("models_dir")
    path = model_path(MODEL, models_dir)
    sampling = {**SAMPLING, "max_tokens": max_tokens}
    messages = [{"role": "user", "content": PROMPT}]
    with tempfile.TemporaryDirectory(prefix="xgen-b7-") as tmp:
        server = LocalServer(
            [MODEL],
            models_dir=models_dir,
            n_ctx=settings.local_n_ctx,
            n_threads=settings.local_n_threads,
            log_path=Path(tmp) / "llama-server.log",
        )
        try:
            started = time.perf_counter()
            server.ensure_started()
            startup = time.perf_counter() - started
            remote = LocalChatModel("qwen", MODEL, server, params=sampling, timeout=600)
            loaded = time.perf_counter()
            llm = in_process(path, settings.local_n_ctx, settings.local_n_threads)
            load = time.perf_counter() - loaded

            def via_server() -> tuple[int, float, str]:
                start = time.perf_counter()
                result = remote.chat(messages)
                wall = time.perf_counter() - start
                return result.usage.completion_tokens, wall, result.finish_reason or ""

            def direct() -> tuple[int, float, str]:
                start = time.perf_counter()
                out = llm.create_chat_completion(messages=messages, **sampling)
                wall = time.perf_counter() - start
                reason = out["choices"][0]["finish_reason"] or ""
                return out["usage"]["completion_tokens"], wall, reason

            via_server(), direct()  # warm-up: first evaluation of the prompt on each side
            pairs = []
            for rep in range(reps):
                if rep % 2:
                    d = direct()
                    s = via_server()
                else:
                    s = via_server()
                    d = direct()
                pairs.append((s, d))
        finally:
            server.stop()
    ratios = [(s[0] / s[1]) / (d[0] / d[1]) for s, d in pairs]
    s_tps = _common.median(s[0] / s[1] for s, _ in pairs)
    d_tps = _common.median(d[0] / d[1] for _, d in pairs)
    tokens = sorted({s[0] for s, _ in pairs} | {d[0] for _, d in pairs})
    reasons = sorted({s[2] for s, _ in pairs} | {d[2] for _, d in pairs})
    detail = (
        f"server {s_tps:.1f} tok/s vs in-process {d_tps:.1f} tok/s; completion tokens "
        f"{'/'.join(map(str, tokens))} (finish {'/'.join(reasons)}), max_tokens {max_tokens}, "
        f"temperature 0; n_ctx {settings.local_n_ctx}, {settings.local_n_threads} threads; "
        f"server start {startup:.1f} s, in-process load {load:.1f} s"
    )
    return _common.result(ratios, TARGET, detail)


if __name__ == "__main__":
    sys.exit(_common.main(sys.modules[__name__]))
