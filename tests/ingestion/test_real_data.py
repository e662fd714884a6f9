"""Ingestion of the real datasets beside the repository: counts against each SOURCE.md.

CI has ``../shared/datasets``; there these tests run (a missing folder fails them in CI).
"""

from __future__ import annotations

import pytest

from conftest import project_parameters
from mtlsearch.formatting.mixtures import format_examples
from mtlsearch.ingestion.examples import build_examples, dataset_cards
from mtlsearch.formatting.prompts import parse_response, serialize_items

# Figures as each SOURCE.md states them, for the same units: examples (sentences, documents or
# records) and items (mentions, relations, triggers, labels). Where the split is a policy of
# ours (dev carved from train, or no source split) the sum over the named splits is checked.
SOURCE_COUNTS = {
    "bc2gm": {"train": (12574, 15197), "dev": (2519, 3061), "test": (5038, 6325)},
    "bc5cdr": {"train": (4560, 9385), "dev": (4581, 9593), "test": (4797, 9809)},
    "biored": {"train": (400, 4178), "dev": (100, 1162), "test": (100, 1163)},
    "ddi": {"train+dev": (6976, 4021), "test": (1299, 979)},
    # git: one example per distinct sentence after its entity markers are removed; SOURCE.md
    # counts raw sentence strings, which repeat a sentence once per triple with other markers,
    # so only the triples are comparable (None: not checked).
    "git": {"train": (None, 3734), "dev": (None, 492), "test": (None, 465)},
    "genia2011": {"train+dev": (8744, 7882), "test": (2940, 2388)},
    "genia2013": {"train+dev": (2530, 2210), "test": (2912, 2466)},
    "phee": {"train": (2898, 3006), "dev": (961, 1003), "test": (968, 1010)},
    "ade": {"train+dev+test": (20967, 20967)},
    "healthadvice": {"train+dev+test": (5982, 5982)},
}


@pytest.fixture(scope="module")
def params():
    return project_parameters()


@pytest.fixture(scope="module")
def ingested(shared_datasets, params):
    examples = build_examples(shared_datasets, params["ingestion"])
    return examples, dataset_cards(examples, params["ingestion"])


def test_every_present_dataset_is_ingested(ingested, shared_datasets):
    examples, _ = ingested
    present = {d.name for d in shared_datasets.iterdir() if d.is_dir() and any(p.name != "SOURCE.md" for p in d.iterdir())}
    assert set(examples["dataset"]) == present
    assert examples.groupby("dataset")["example_id"].apply(lambda ids: ids.is_unique).all()


@pytest.mark.parametrize("dataset", sorted(SOURCE_COUNTS))
def test_card_counts_match_source(ingested, dataset):
    _, cards = ingested
    splits = cards[dataset]["splits"]
    for names, (n_examples, n_items) in SOURCE_COUNTS[dataset].items():
        parts = [splits[name] for name in names.split("+")]
        if n_examples is not None:
            assert sum(p["examples"] for p in parts) == n_examples, (dataset, names)
        assert sum(p["items"] for p in parts) == n_items, (dataset, names)


def test_label_frequencies_match_source(ingested):
    _, cards = ingested

    def total(dataset):
        counts = {}
        for split in cards[dataset]["splits"].values():
            for label, n in split["item_types"].items():
                counts[label] = counts.get(label, 0) + n
        return counts

    assert total("healthadvice") == {"no advice": 3575, "weak advice": 1482, "strong advice": 925}
    assert total("ade") == {"not ADE": 16695, "ADE": 4272}
    assert cards["bc5cdr"]["splits"]["test"]["item_types"] == {"Disease": 4424, "Chemical": 5385}


def test_round_trip_of_every_example_of_every_dataset(ingested, params):
    examples, _ = ingested
    for items in examples["items"]:
        assert parse_response(serialize_items(list(items))) == list(items)
    # and through the real prompts of the configuration
    formatted = format_examples(examples.groupby("dataset").head(200), params["formatting"])
    assert len(formatted) > 0


def test_genia_articles_never_cross_train_and_test(ingested):
    examples, _ = ingested
    genia = examples[examples["dataset"].isin(["genia2011", "genia2013"])]
    splits = genia.groupby("doc_id")["split"].agg(set)
    shared = genia.groupby("doc_id")["dataset"].nunique() > 1
    assert shared.sum() >= 10  # the two corpora share their full-text articles
    for doc, found in splits.items():
        assert not ({"train", "dev"} & found and "test" in found), doc


def test_policy_splits_keep_documents_whole(ingested):
    examples, _ = ingested
    policy = examples[examples["dataset"].isin(["ade", "healthadvice", "ddi", "genia2011", "genia2013"])]
    per_doc = policy.groupby(["dataset", "doc_id"])["split"].nunique()
    assert per_doc.max() == 1
