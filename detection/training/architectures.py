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
