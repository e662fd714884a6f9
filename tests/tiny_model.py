"""A tiny model configuration and synthetic text shared by the training and generation tests."""

import random

import pytest
import torch

WORDS = (
    "the patient was given aspirin for fever and pain after surgery while the dose of "
    "ibuprofen caused nausea in a small group of children with asthma"
).split()
TINY = {
    "config": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 512,
    },
    "seed": 0,
}
QUIET = {"progress_bar": False}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # models this small gain nothing from a second thread, and on cores shared with other jobs
    # the threads' spin-waiting slows each step several times over
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def sentences(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14))) for _ in range(n)]
