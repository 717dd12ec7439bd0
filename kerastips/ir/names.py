"""Keras vocabulary and the folding of every import spelling to one canonical dotted name.

`tf.keras.layers.Dense`, `keras.layers.core.Dense`, `from tensorflow.keras.layers import Dense as D`
and a bare `Dense` in an import-less snippet all become ``keras.layers.Dense``.
"""

from __future__ import annotations

import functools
import re

# Packages that are Keras under another name; the longest prefix wins.
_KERAS_PREFIXES = (
    "tensorflow.compat.v1.keras",
    "tensorflow.compat.v2.keras",
    "tensorflow.python.keras",
    "tensorflow.keras",
    "tf_keras",
    "keras.src",
    "keras.api",
    "keras._tf_keras.keras",
    "keras",
)
_TF2_ALIASES = {  # tf.optimizers is tf.keras.optimizers in TF2, and so on
    "tensorflow.optimizers": "keras.optimizers",
    "tensorflow.initializers": "keras.initializers",
    "tensorflow.metrics": "keras.metrics",
}

ACTIVATION_LAYERS = frozenset(
    {"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU"}
)
# Layers whose activation= is applied to a linear output that could be normalized first.
LINEAR_WITH_ACTIVATION = frozenset(
    {
        "Dense", "EinsumDense",
        "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
        "LocallyConnected1D", "LocallyConnected2D",
    }
)
BATCHNORM_LAYERS = frozenset({"BatchNormalization", "SyncBatchNormalization"})
NOISE_LAYERS = frozenset(
    {
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
        "GaussianNoise", "GaussianDropout", "AlphaDropout",
    }
)
DROPOUT_LAYERS = frozenset(
    {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout",
     "GaussianDropout"}
)
ATTENTION_LAYERS = frozenset({"MultiHeadAttention", "GroupedQueryAttention"})
# keras_nlp / keras_hub blocks that are Transformers.
TRANSFORMER_BLOCKS = frozenset(
    {"TransformerEncoder", "TransformerDecoder", "CachedMultiHeadAttention"}
)
OTHER_LAYERS = frozenset(
    {
        "Input", "InputLayer", "Flatten", "Reshape", "Permute", "RepeatVector", "Lambda",
        "Embedding", "Masking", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
        "Concatenate", "Dot", "LayerNormalization", "GroupNormalization", "UnitNormalization",
        "Normalization", "Rescaling", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation",
        "RandomZoom", "RandomTranslation", "RandomContrast", "TextVectorization",
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
        "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
        "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
        "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
        "UpSampling1D", "UpSampling2D", "UpSampling3D", "LSTM", "GRU", "SimpleRNN",
        "Bidirectional", "TimeDistributed", "ConvLSTM2D", "Attention", "AdditiveAttention",
        "ActivityRegularization", "Identity",
    }
)
KNOWN_LAYERS = (
    ACTIVATION_LAYERS | LINEAR_WITH_ACTIVATION | BATCHNORM_LAYERS | NOISE_LAYERS
    | ATTENTION_LAYERS | OTHER_LAYERS
)

# Modules whose functions are activations when applied to a tensor (tf.nn.relu(x), ops.relu(x)).
ACTIVATION_FUNCTION_NAMESPACES = frozenset(
    {"keras.activations", "tensorflow.nn", "tensorflow.math", "keras.ops", "keras.backend",
     "tensorflow", "keras.ops.nn"}
)
ACTIVATION_FUNCTIONS = frozenset(
    {"relu", "relu6", "elu", "selu", "gelu", "swish", "silu", "sigmoid", "tanh", "leaky_relu",
     "softmax", "softplus", "softsign", "crelu", "log_softmax", "hard_sigmoid", "hard_silu",
     "hard_swish", "mish", "exponential", "celu", "glu", "sparse_plus", "squareplus"}
)

ADAPTIVE_OPTIMIZERS = frozenset(
    {"Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Adafactor", "Lion",
     "Ftrl", "LAMB", "Lamb", "Muon"}
)
OPTIMIZERS = ADAPTIVE_OPTIMIZERS | {"SGD", "LossScaleOptimizer"}
# String spellings accepted by compile(optimizer=...), lower-cased.
STRING_OPTIMIZERS = {name.lower(): name for name in OPTIMIZERS if name != "LossScaleOptimizer"}

SCHEDULES = frozenset(
    {"CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
     "PiecewiseConstantDecay", "PolynomialDecay", "LearningRateSchedule"}
)

# Keras 1 spellings that still appear in the wild.
OLD_LAYER_NAMES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "Deconvolution2D": "Conv2DTranspose", "Deconvolution3D": "Conv3DTranspose",
    "AtrousConvolution2D": "Conv2D", "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D", "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose",
}
# Keras 1 keyword spellings and their current names, in fit() and in the layers.
OLD_FIT_KEYWORDS = {"nb_epoch": "epochs"}
OLD_LAYER_KEYWORDS = {
    "init": "kernel_initializer", "W_regularizer": "kernel_regularizer",
    "b_regularizer": "bias_regularizer", "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint", "bias": "use_bias", "nb_filter": "filters",
    "border_mode": "padding", "subsample": "strides",
}
# A layer call with any of these is Keras 1's, whose positional arguments meant other things
# (Convolution2D(32, 3, 3): rows and columns, not strides).
KERAS1_LAYER_KEYWORDS = frozenset(OLD_LAYER_KEYWORDS) | {
    "nb_row", "nb_col", "dim_ordering", "pool_length", "stride", "filter_length",
    "subsample_length", "output_dim", "atrous_rate"}
# Functional merge helpers: layers.add([a, b]) is Add()([a, b]).
MERGE_FUNCTIONS = {
    "add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
    "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate", "dot": "Dot",
}


# Public names a bare, un-imported identifier may stand for in a snippet.
_BARE = {
    **{name: f"keras.layers.{name}" for name in KNOWN_LAYERS},
    **{name: f"keras.layers.{new}" for name, new in OLD_LAYER_NAMES.items()},
    **{name: f"keras.optimizers.{name}" for name in OPTIMIZERS},
    **{name: f"keras.optimizers.schedules.{name}" for name in SCHEDULES},
    "Sequential": "keras.Sequential",
    "Model": "keras.Model",
    "Input": "keras.Input",
    "EarlyStopping": "keras.callbacks.EarlyStopping",
    "ModelCheckpoint": "keras.callbacks.ModelCheckpoint",
    "ReduceLROnPlateau": "keras.callbacks.ReduceLROnPlateau",
    "LearningRateScheduler": "keras.callbacks.LearningRateScheduler",
    "to_categorical": "keras.utils.to_categorical",
    "Tokenizer": "keras.preprocessing.text.Tokenizer",
    "StandardScaler": "sklearn.preprocessing.StandardScaler",
    "MinMaxScaler": "sklearn.preprocessing.MinMaxScaler",
    "train_test_split": "sklearn.model_selection.train_test_split",
    **{name: f"keras_tuner.{name}" for name in ("RandomSearch", "Hyperband", "BayesianOptimization",
                                                 "GridSearch")},
}

# Keras sub-packages whose public names are flat: keras.layers.core.Dense -> keras.layers.Dense.
_FLAT_PACKAGES = ("layers", "optimizers", "callbacks", "activations", "losses", "metrics",
                  "initializers", "regularizers")

# The pre-filter: "keras" or "tensorflow" anywhere, or one of these names as a whole word (an
# import-less snippet). The names' regex starts with a capital, so the regex engine skips from
# capital to capital; a leading \b would make it try every position (8x slower), so the word's
# start is checked by hand.
_SNIPPET_NAMES = re.compile(
    r"(?:Sequential|Dense|Conv[123]D|BatchNormalization|MultiHeadAttention"
    r"|RandomSearch|Hyperband|BayesianOptimization)\b"
)


def mentions_keras(source: str) -> bool:
    """Cheap pre-filter: files that cannot contain Keras code are never parsed."""
    if "keras" in source or "tensorflow" in source:
        return True
    for match in _SNIPPET_NAMES.finditer(source):
        before = source[match.start() - 1] if match.start() else " "
        if not (before.isalnum() or before == "_"):  # what \b means before a letter
            return True
    return False


@functools.lru_cache(maxsize=4096)
def canonical(dotted: str) -> str:
    """Fold a fully-qualified dotted name to its canonical Keras spelling (others unchanged)."""
    for alias, target in _TF2_ALIASES.items():
        if dotted == alias or dotted.startswith(alias + "."):
            dotted = target + dotted[len(alias):]
            break
    for prefix in _KERAS_PREFIXES:
        if dotted == prefix or dotted.startswith(prefix + "."):
            return _canonical_keras(dotted[len(prefix) + 1:].split(".") if dotted != prefix else [])
    return dotted


def _canonical_keras(parts: list[str]) -> str:
    if not parts:
        return "keras"
    if parts[0] == "layers" and parts[-1] in OLD_LAYER_NAMES:
        return f"keras.layers.{OLD_LAYER_NAMES[parts[-1]]}"
    # Old implementation paths: keras.engine.sequential.Sequential, keras.models.Model, ...
    if parts[-1] in ("Sequential", "Model", "Input") and parts[0] in (
        "models", "engine", "src", "layers", "Sequential", "Model", "Input"
    ):
        return f"keras.{parts[-1]}"
    if parts[0] == "optimizers" and "schedules" in parts:
        return f"keras.optimizers.schedules.{parts[-1]}" if parts[-1] != "schedules" else \
            "keras.optimizers.schedules"
    if parts[0] == "utils" and parts[-1] == "to_categorical":
        return "keras.utils.to_categorical"
    if parts[0] in ("layers", "optimizers") and len(parts) > 2 and parts[1] in (
        "experimental", "legacy"
    ) and parts[2] == "preprocessing":
        return f"keras.layers.{parts[-1]}"
    if parts[0] in _FLAT_PACKAGES and len(parts) > 1:
        return f"keras.{parts[0]}.{parts[-1]}"
    if parts[0] == "utils" and parts[-1] == "np_utils":
        return "keras.utils"
    return "keras." + ".".join(parts)


def bare(name: str) -> str | None:
    """The canonical name a bare identifier stands for in an import-less snippet, if any."""
    return _BARE.get(name)


def short(name: str, package: str) -> str | None:
    """``short("keras.layers.Dense", "keras.layers")`` -> ``"Dense"``; None if not in package."""
    if name.startswith(package + ".") and "." not in name[len(package) + 1:]:
        return name[len(package) + 1:]
    return None
