"""The held-out faces are chosen by file, so they stay held out when the pool changes."""

import numpy as np

from detection.training.recipes.train import split_by_key


def _held(keys, fraction=0.2, seed=7):
    keep, held = split_by_key(keys, fraction, seed)
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(len(keys)))
    return {keys[i] for i in held}


def test_a_file_keeps_its_side_when_faces_are_added_or_lost():
    keys = [f"openforensics/fake/{i}.jpg" for i in range(500)]
    held = _held(keys)
    assert 60 <= len(held) <= 140  # about a fifth
    # The detector finds one face fewer, and a pool of new pictures joins: no kept face moves
    # into the held-out set, and no held-out face into training.
    changed = keys[1:] + [f"rmfd/{i}.jpg" for i in range(100)]
    held_after = _held(changed)
    assert held_after & set(keys) == held - {keys[0]}


def test_the_seed_chooses_another_split_and_tiny_pools_still_hold_one_out():
    keys = [f"real/{i}.png" for i in range(300)]
    assert _held(keys, seed=1) != _held(keys, seed=2)
    assert len(_held(["a.png", "b.png"], fraction=0.01)) == 1
    keep, held = split_by_key([], 0.1, 0)
    assert len(keep) == len(held) == 0
