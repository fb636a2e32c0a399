"""Grad-CAM heatmaps: where in a face crop the classifier's evidence for "fake" lies.

Plain Python (no Django). Grad-CAM (Selvaraju et al., 2017) weights the last convolution's
feature maps by the gradient of the fake score with respect to them and keeps the positive part:
bright regions are those that pushed the score towards "fake". It shows where the model looked,
not that the video was manipulated there.
"""

from __future__ import annotations

import cv2
import numpy as np

from .classify import preprocess


def _last_conv_index(model) -> int:
    import keras

    for i in range(len(model.layers) - 1, -1, -1):
        if isinstance(model.layers[i], keras.layers.Conv2D):
            return i
    raise ValueError(f"Model {model.name!r} has no Conv2D layer: Grad-CAM needs one.")


def _score_logit(layer, inputs):
    """The pre-sigmoid logit of a final sigmoid Dense layer (a saturated sigmoid has no gradient)."""
    import keras

    if isinstance(layer, keras.layers.Dense) and layer.activation is keras.activations.sigmoid:
        z = keras.ops.matmul(inputs, layer.kernel)
        return z + layer.bias if layer.use_bias else z
    return layer(inputs)


def grad_cam(model, crops: list[np.ndarray], *, input_size: int, channels: int) -> np.ndarray:
    """Heatmaps (N, input_size, input_size), float32 in 0..1, for BGR face crops.

    Works on Sequential models by calling their layers one by one (Keras 3 Sequential models
    have no symbolic output of an inner layer to build a sub-model from).
    """
    import tensorflow as tf

    if not crops:
        return np.zeros((0, input_size, input_size), dtype=np.float32)
    import keras

    batch = tf.convert_to_tensor(preprocess(crops, input_size, channels))
    conv_at = _last_conv_index(model)
    layers = model.layers
    if isinstance(model, keras.Sequential):
        with tf.GradientTape() as tape:
            x = batch
            for layer in layers[: conv_at + 1]:
                x = layer(x, training=False)
            features = x
            tape.watch(features)
            for layer in layers[conv_at + 1 : -1]:
                x = layer(x, training=False)
            score = tf.reshape(_score_logit(layers[-1], x), (-1,))
    else:
        # A functional graph (branches, residual adds): one sub-model gives the last conv's
        # maps and the input of the final layer together.
        head = keras.Model(model.inputs, [layers[conv_at].output, layers[-1].input])
        with tf.GradientTape() as tape:
            features, x = head(batch, training=False)
            score = tf.reshape(_score_logit(layers[-1], x), (-1,))
    grads = tape.gradient(score, features)  # (N, h, w, k)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)  # one weight per feature map
    cams = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1)).numpy()  # (N, h, w)
    out = np.zeros((len(crops), input_size, input_size), dtype=np.float32)
    for i, cam in enumerate(cams):
        # Up to the input's size first, then scale so the strongest evidence is 1.
        cam = cv2.resize(cam, (input_size, input_size), interpolation=cv2.INTER_LINEAR)
        peak = float(cam.max())
        if peak > 0:  # all zero: nothing in the crop pushed towards "fake"
            out[i] = cam / peak
    return np.clip(out, 0.0, 1.0)


def overlay(crop_bgr: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """The heatmap in a colour scale (blue = none, red = most) blended over the crop (BGR)."""
    h, w = crop_bgr.shape[:2]
    heat = cv2.resize(heatmap.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    coloured = cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), cv2.COLORMAP_JET)
    return cv2.addWeighted(crop_bgr, 1.0 - alpha, coloured, alpha, 0.0)
