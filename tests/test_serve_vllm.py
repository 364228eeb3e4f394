"""ftlab serve --backend vllm on a CUDA GPU: the base model and a LoRA run as an adapter on it, from one engine,
answering the OpenAI client; the base model's greedy answers are the transformers runtime's.

Skipped where vLLM cannot run (no CUDA GPU, vLLM not installed: the reason is the skip's); run with ``pytest -m gpu``.
"""

import pytest
from openai import OpenAI

from ftlab.serving.backends.vllm_engine import unavailable

MODEL = "ftlab/tiny-chat"
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))]


def test_vllm_serves_the_base_and_a_lora_run_on_it(lora_run, tmp_path):
    from ftlab.export.opening import open_runtime
    from ftlab.export.runtime import TransformersRuntime
    from ftlab.serving.background import BackgroundServer
    from ftlab.training.saved import load_trained

    questions = [[{"role": "user", "content": f"Repeat: {w}"}] for w in ("apple", "melon", "grape")]
    base = open_runtime(MODEL)
    expected_base = [base.generate(q, 20).text for q in questions]
    trained = TransformersRuntime(*load_trained(lora_run), "trained")
    expected_trained = [trained.generate(q, 20).text for q in questions]
    with BackgroundServer(MODEL, "--backend", "vllm", "--lora", f"repeat={lora_run}", log=tmp_path / "serve.log") \
            as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
        served = [m.id for m in client.models.list().data]
        assert served[1:] == ["repeat"] and len(served) == 2
        for model, expected in ((served[0], expected_base), ("repeat", expected_trained)):
            answers = [client.chat.completions.create(model=model, messages=q, max_tokens=20).choices[0].message.content
                       for q in questions]
            assert answers == expected
        chunks = list(client.chat.completions.create(model="repeat", messages=questions[0], max_tokens=20,
                                                     stream=True, stream_options={"include_usage": True}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected_trained[0]
        assert chunks[-1].usage.prompt_tokens == len(base.encode(base.render(questions[0])))
        assert server.stop() == 0
