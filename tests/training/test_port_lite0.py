"""The PyTorch -> Keras port of EfficientNet-Lite0, checked on a synthetic state dict (torch is a
development-only dependency; the real weights were checked on ImageNet photos, see the module)."""

import numpy as np
import pytest

from detection.training.recipes.architectures import (
    LITE0_STAGES,
    efficientnet_lite0,
    load_lite0_imagenet,
)
from detection.training.recipes.port_efficientnet_lite0 import convert

pytestmark = pytest.mark.slow


def _fake_state_dict(rng):
    sd = {}

    def conv(name, out, inp, k):
        sd[f"{name}.weight"] = rng.normal(0, 0.1, (out, inp, k, k)).astype(np.float32)

    def bn(name, ch):
        sd[f"{name}.weight"] = rng.uniform(0.5, 1.5, ch).astype(np.float32)
        sd[f"{name}.bias"] = rng.normal(0, 0.1, ch).astype(np.float32)
        sd[f"{name}.running_mean"] = rng.normal(0, 0.1, ch).astype(np.float32)
        sd[f"{name}.running_var"] = rng.uniform(0.5, 1.5, ch).astype(np.float32)

    conv("_conv_stem", 32, 3, 3)
    bn("_bn0", 32)
    block, ch = 0, 32
    for k, _, e, out, repeats in LITE0_STAGES:
        for _ in range(repeats):
            p = f"_blocks.{block}"
            if e != 1:
                conv(f"{p}._expand_conv", ch * e, ch, 1)
                bn(f"{p}._bn0", ch * e)
            sd[f"{p}._depthwise_conv.weight"] = rng.normal(0, 0.1, (ch * e, 1, k, k)).astype(
                np.float32
            )
            bn(f"{p}._bn1", ch * e)
            conv(f"{p}._project_conv", out, ch * e, 1)
            bn(f"{p}._bn2", out)
            ch, block = out, block + 1
    conv("_conv_head", 1280, 320, 1)
    bn("_bn1", 1280)
    sd["_fc.weight"] = rng.normal(0, 0.01, (1000, 1280)).astype(np.float32)
    sd["_fc.bias"] = np.zeros(1000, np.float32)
    return sd


def test_every_backbone_layer_receives_its_ported_weights(tmp_path):
    sd = _fake_state_dict(np.random.default_rng(0))
    layers = convert(sd)
    path = tmp_path / "lite0.npz"
    np.savez(path, **{f"{n}/{i}": w for n, ws in layers.items() for i, w in enumerate(ws)})
    model = efficientnet_lite0(64)
    assert load_lite0_imagenet(model, path) == 98  # 16 blocks, stem and head; not the new head
    stem = model.get_layer("stem_conv").get_weights()[0]
    assert np.array_equal(stem, sd["_conv_stem.weight"].transpose(2, 3, 1, 0))
    dw = model.get_layer("block3_dw").get_weights()[0]
    assert np.array_equal(dw, sd["_blocks.3._depthwise_conv.weight"].transpose(2, 3, 0, 1))
    gamma, beta, mean, var = model.get_layer("head_bn").get_weights()
    assert np.array_equal(var, sd["_bn1.running_var"])
    out = model.predict(np.full((1, 64, 64, 3), 127.0, np.float32), verbose=0)
    assert 0.0 <= float(out[0, 0]) <= 1.0
