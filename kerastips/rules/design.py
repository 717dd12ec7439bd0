"""CNN design rules (KT109, KT110): the shapes and proportions of a convolutional layer chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from kerastips.ir.model import Const, KerasFile, LayerNode, Seq
from kerastips.ir.shapes import (
    AVERAGE_POOLING,
    CONVOLUTIONS,
    DEPTHWISE,
    GLOBAL_POOLING,
    POOLING,
    TRANSPOSED,
    UPSAMPLING,
    Shapes,
    shapes_of,
)
from kerastips.rules.base import Finding, Invalid, Option, Rule

# Layers that leave the spatial layout alone (for "what lies between two convolutions").
_PLAIN = frozenset(
    {"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU",
     "BatchNormalization", "SyncBatchNormalization", "LayerNormalization", "GroupNormalization",
     "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
     "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity",
     "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"}
)


def chains(kfile: KerasFile) -> list[list[LayerNode]]:
    """The file's layer graphs that are one straight chain (every layer has at most one input and
    one output), in data-flow order. Graphs with branches (residual connections, Inception
    modules, several inputs, if/else alternatives) are left out. Linear time."""
    parent: dict[int, int] = {}

    def find(key: int) -> int:
        root = key
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[key] != root:
            parent[key], key = root, parent[key]
        return root

    by_id = {id(node): node for node in kfile.nodes}
    for node in kfile.nodes:
        for source in kfile.inputs_of(node):
            by_id.setdefault(id(source), source)
            parent[find(id(node))] = find(id(source))
    groups: dict[int, list[LayerNode]] = {}
    for key, node in by_id.items():
        groups.setdefault(find(key), []).append(node)
    found = []
    for members in groups.values():
        if len(members) < 2 or any(
            len(kfile.inputs_of(n)) > 1 or len(kfile.outputs_of(n)) > 1 for n in members
        ):
            continue
        sources = [n for n in members if not kfile.inputs_of(n)]
        if len(sources) != 1:
            continue
        chain, node = [], sources[0]
        while node is not None and len(chain) <= len(members):
            chain.append(node)
            following = kfile.outputs_of(node)
            node = next(iter(following)) if following else None
        if len(chain) == len(members):
            found.append(chain)
    return found


def _literal(node: LayerNode, keyword: str, position: Optional[int]):
    """A literal argument (tuples from sequences), None when absent, ... when not literal."""
    value = node.args.value(keyword, position)
    if value is None:
        return None
    if isinstance(value, Const):
        return value.value
    if isinstance(value, Seq) and not value.repeated and all(isinstance(i, Const) for i in value.items):
        return tuple(i.value for i in value.items)
    return ...


def _dims(value, n: int) -> Optional[tuple]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        return tuple(value)
    return None


@dataclass
class _Conv:
    """What KT109 needs of a convolution: kernel, filters, strides, dilation (None: not literal)."""

    node: LayerNode
    index: int
    kernel: Optional[tuple]
    filters: Optional[int]
    strides: Optional[tuple]
    dilation: Optional[tuple]

    @property
    def pointwise(self) -> bool:
        return self.kernel is not None and all(k == 1 for k in self.kernel)

    @staticmethod
    def of(node: LayerNode, index: int) -> "_Conv":
        depthwise = node.short in DEPTHWISE
        n = DEPTHWISE.get(node.short) or CONVOLUTIONS[node.short]
        shift = -1 if depthwise else 0
        filters = None if depthwise else _literal(node, "filters", 0)
        # Keras 1: Conv2D(32, 3, 3) (rows, cols), subsample= for strides, border_mode=...
        legacy = (not depthwise and n >= 2 and len(node.args.positional) > 2) or node.args.keras1
        return _Conv(
            node, index,
            None if legacy else _dims(_literal(node, "kernel_size", 1 + shift), n),
            filters if isinstance(filters, int) and not isinstance(filters, bool) else None,
            None if legacy else _dims(_literal(node, "strides", 2 + shift) or 1, n),
            _dims(_literal(node, "dilation_rate", 5) or 1, n),
        )


def _show(dims: tuple) -> str:
    return "x".join(map(str, dims))


class CnnDesign(Rule):
    """## What it does
    Checks convolutional networks whose layers form one straight chain (`Sequential` lists,
    `.add()` sequences, functional chains, nested calls, subclassed models) for design
    inefficiencies (NeuraLint's f002, f016, f019, f023, f025, f027), one message per case:

    - *no down-sampling*: a deep conv stack (at least `deep-conv-layers` convolutions) with no
      pooling and no strided convolution before its classifier head (Flatten/GlobalPooling);
    - *kernel shrinking*: a convolution whose kernel is smaller than the previous one's, at the same
      feature-map resolution (or, with literal input shapes, covering a smaller part of its
      feature map than the previous kernel did of its own);
    - *filters shrinking*: a convolution with fewer filters than the previous convolution;
    - *Dense widening*: a hidden Dense layer of the classifier head wider than the hidden Dense
      before it;
    - *pooling after every convolution* in a deep CNN;
    - *only average pooling* in a deep CNN that down-samples with pooling.

    Deliberately not flagged: networks with branches (residual connections, Inception modules,
    several inputs), where these proportions are not meant to hold along a single path;
    encoder-decoder networks (`Conv*Transpose` or `UpSampling*` in the chain, or an unknown
    operation such as a `Lambda` that may resize), whose encoder narrows on purpose;
    convolutions after a Dense layer (a generator or decoder turning a code into an image);
    convolutions separated by a Flatten, Dense, Reshape or recurrent layer (compared only within
    one convolutional stack); 1x1
    convolutions (bottlenecks and projections) in the filter and kernel comparisons; a final
    convolution that produces the model's output (e.g. the image channels of a denoiser); the
    output Dense layer, whose width is fixed by the task; dilated convolution stacks, which keep
    their resolution on purpose; feature maps smaller than 16 in a side (board games).

    ## Why is this bad?
    The usual proportions of a CNN: spatial filtering windows that keep or grow their reach, feature
    maps that get more channels as their area shrinks, fully-connected layers that narrow towards
    the output, two or three convolutions per resolution before max pooling halves it. A deep stack
    without down-sampling pays full-resolution compute on every layer and keeps a small receptive
    field; pooling after every convolution throws resolution away before it is used; average
    pooling blurs the strongest activations max pooling keeps; a narrowing number of filters or
    a widening head wastes capacity where the network needs it least.

    This rule is a design review, not a bug finder: it is off by default (enable it with
    `--select KT109` or `--extend-select KT109`).

    ## Example
    ```python
    model = keras.Sequential([
        keras.Input(shape=(64, 64, 3)),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        keras.Input(shape=(64, 64, 3)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    ```

    ## References
    - Nikanjam, Ben Braiek, Morovati & Khomh, "Automatic Fault Detection for Deep Learning
      Programs Using Graph Transformations" (TOSEM 2021): NeuraLint's rules
    - Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
      Recognition" (2015)
    - Springenberg et al., "Striving for Simplicity: The All Convolutional Net" (2015)
    """

    code = "KT109"
    name = "cnn-design"
    summary = "CNN design inefficiency (down-sampling, kernel/filter/Dense proportions, pooling)"
    default_enabled = False
    options = {
        "deep-conv-layers": Option(6, "A CNN with at least this many convolution layers is deep."),
    }

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        if not kfile.nodes:
            return
        shapes = shapes_of(kfile)
        for chain in chains(kfile):
            yield from self._check_chain(chain, shapes)

    def _check_chain(self, chain: list[LayerNode], shapes: Shapes) -> Iterator[Finding]:
        convs = [_Conv.of(node, i) for i, node in enumerate(chain)
                 if node.is_keras_layer and (node.short in CONVOLUTIONS or node.short in DEPTHWISE)]
        if not convs:
            return
        deep = len(convs) >= self.config["deep-conv-layers"]
        kinds = [node.short if node.is_keras_layer else
                 ("Activation" if node.kind.startswith("op:") else node.kind) for node in chain]
        # An encoder-decoder, or an operation that may resize: proportions are not monotonic.
        reshaping = any(
            kind in TRANSPOSED or kind in UPSAMPLING or kind in ("Lambda", "Resizing")
            or kind.startswith("user:") or (kind == "opaque" and i > 0)
            for i, kind in enumerate(kinds)
        )
        pools = [i for i, kind in enumerate(kinds) if kind in POOLING]
        strided = any(c.strides is not None and any(s > 1 for s in c.strides) for c in convs)
        first = convs[0]
        if deep and not reshaping:
            yield from self._downsampling(chain, kinds, convs, pools, strided, shapes)
        if not reshaping:
            # Convolutions after a Dense layer decode a code into an image (a generator, a
            # decoder): narrowing towards the output channels is their job.
            encoding = [c for c in convs if "Dense" not in kinds[:c.index]]
            if encoding:
                yield from self._kernels(chain, kinds, encoding, shapes)
                yield from self._filters(chain, kinds, encoding)
            yield from self._dense_head(chain, kinds, convs[-1].index)
        if deep and len(pools) >= len(convs) - 1 and all(
            any(c.index < p < d.index for p in pools) for c, d in zip(convs, convs[1:])
        ):
            yield Finding(first.node.call, (
                f"pooling after every convolution in a deep CNN ({len(convs)} convolutions): stack "
                "2-3 convolutions per pooling so each resolution is filtered more than once"),
                first.node.statement)
        average = [i for i in pools if kinds[i] in AVERAGE_POOLING]
        if deep and average and len(average) == len(pools) and not strided:
            node = chain[average[0]]
            yield Finding(node.call, (
                f"only average pooling in a deep CNN ({len(convs)} convolutions): max pooling is "
                "the preferred down-sampling, it keeps the strongest activations"), node.statement)

    def _downsampling(self, chain, kinds, convs, pools, strided, shapes) -> Iterator[Finding]:
        """f002: a deep conv stack that never down-samples before its classifier head."""
        if pools or strided or any(c.strides is None or c.dilation is None for c in convs):
            return
        if any(d > 1 for c in convs for d in c.dilation):
            return  # dilated stacks keep their resolution on purpose
        last = convs[-1].index
        if not any(kind == "Flatten" or kind in GLOBAL_POOLING for kind in kinds[last + 1:]):
            return  # not a classifier: a dense prediction network keeps its resolution
        incoming = shapes.input(convs[0].node)
        if incoming is not None:
            n = len(incoming) - 1
            spatial = incoming[:n]
            if any(d is not None and d < 16 for d in spatial):
                return  # a small board: nothing to pool away
        first = convs[0].node
        yield Finding(first.call, (
            f"deep CNN without down-sampling: {len(convs)} convolution layers and no pooling or "
            "strided convolution before the classifier; add MaxPooling (or strides=2) every 2-3 "
            "convolutions"), first.statement)

    def _kernels(self, chain, kinds, convs, shapes) -> Iterator[Finding]:
        """f016: a spatial window that shrinks with depth."""
        previous = None
        for conv in convs:
            if conv.kernel is None or conv.strides is None:
                previous = None
                continue
            if conv.pointwise:
                continue
            if previous is not None and not _same_stack(kinds, previous, conv):
                previous = None
            if previous is not None and all(a <= b for a, b in zip(conv.kernel, previous.kernel)) \
                    and conv.kernel != previous.kernel:
                message = self._shrinking_kernel(chain, kinds, previous, conv, shapes)
                if message:
                    yield Finding(conv.node.call, message, conv.node.statement)
                    return
            previous = conv

    @staticmethod
    def _shrinking_kernel(chain, kinds, previous: _Conv, conv: _Conv, shapes: Shapes) -> Optional[str]:
        between = kinds[previous.index + 1:conv.index]
        same_resolution = all(kind in _PLAIN for kind in between) and all(s == 1 for s in previous.strides)
        if same_resolution:
            return (f"kernel size shrinks with depth: {_show(conv.kernel)} after the "
                    f"{_show(previous.kernel)} of the previous convolution at the same resolution; "
                    "spatial windows should stay the same or grow")
        before, after = shapes.input(previous.node), shapes.input(conv.node)
        if before is None or after is None or len(before) != len(after):
            return None
        n = len(conv.kernel)
        formats = {_channels_first(previous.node), _channels_first(conv.node)}
        if None in formats or len(formats) != 1:
            return None
        first = formats.pop()
        map_before = before[1:] if first else before[:n]
        map_after = after[1:] if first else after[:n]
        if any(d is None for d in map_before + map_after):
            return None
        # The window covers less of its feature map: k / L smaller in every dimension.
        if all(k * lp < kp * l for k, kp, l, lp in zip(conv.kernel, previous.kernel, map_after, map_before)):
            return (f"kernel size shrinks with depth: {_show(conv.kernel)} on a {_show(map_after)} "
                    f"feature map covers less of it than the {_show(previous.kernel)} before it did "
                    f"of {_show(map_before)}; spatial windows should stay the same or grow")
        return None

    def _filters(self, chain, kinds, convs) -> Iterator[Finding]:
        """f023: fewer feature maps deeper in the network."""
        last = convs[-1].index
        head = kinds[last + 1:]
        output_conv = not any(k == "Flatten" or k == "Dense" or k in GLOBAL_POOLING for k in head)
        previous = None
        for conv in convs:
            if conv.filters is None or conv.kernel is None:
                previous = None if conv.node.short not in DEPTHWISE else previous
                continue
            if conv.pointwise:
                continue
            if conv.index == last and output_conv:
                break
            if previous is not None and not _same_stack(kinds, previous, conv):
                previous = None
            if previous is not None and conv.filters < previous.filters:
                yield Finding(conv.node.call, (
                    f"filter count shrinks with depth: {conv.filters} filters after "
                    f"{previous.filters}; feature maps should get more channels as their area "
                    "shrinks"), conv.node.statement)
                return
            previous = conv

    def _dense_head(self, chain, kinds, last_conv: int) -> Iterator[Finding]:
        """f019: a hidden Dense layer of the classifier head wider than the one before it."""
        denses = [chain[i] for i in range(last_conv + 1, len(chain)) if kinds[i] == "Dense"]
        hidden = denses[:-1]  # the output layer's width is the task's
        previous = None
        for node in hidden:
            units = _literal(node, "units", 0)
            if not isinstance(units, int) or isinstance(units, bool):
                previous = None
                continue
            if previous is not None and units > previous:
                yield Finding(node.call, (
                    f"Dense width grows towards the output: {units} units after {previous}; hidden "
                    "fully-connected layers should narrow progressively"), node.statement)
                return
            previous = units

    VALID = (
        # VGG-style: filters grow, two convolutions per max pooling, a narrowing head.
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(64, 64, 3)),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(128, 3, padding="same", activation="relu"),
    layers.Conv2D(128, 3, padding="same", activation="relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
""",
        # A convolutional autoencoder: the encoder narrows on purpose, the decoder upsamples.
        """
import keras
from keras import layers
inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(16, 3, activation="relu", padding="same")(inputs)
x = layers.MaxPooling2D(2, padding="same")(x)
x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
encoded = layers.MaxPooling2D(2, padding="same")(x)
x = layers.Conv2D(8, 3, activation="relu", padding="same")(encoded)
x = layers.UpSampling2D(2)(x)
x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
x = layers.UpSampling2D(2)(x)
decoded = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
autoencoder = keras.Model(inputs, decoded)
encoder = keras.Model(inputs, encoded)
""",
        # A Dense bottleneck: the convolutions after it decode the code into an image.
        """
from keras import layers, Sequential, Input
autoencoder = Sequential([
    Input((28, 28, 1)),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.Flatten(),
    layers.Dense(16, activation="relu"),
    layers.Dense(28 * 28 * 8, activation="relu"),
    layers.Reshape((28, 28, 8)),
    layers.Conv2D(64, 3, padding="same", activation="relu"),
    layers.Conv2D(32, 3, padding="same", activation="relu"),
    layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
])
""",
        # 1x1 bottlenecks and projections; a residual connection makes the graph a non-chain.
        """
from keras import Sequential, layers
import keras
model = Sequential([
    layers.Conv2D(64, 3, activation="relu", input_shape=(32, 32, 3)),
    layers.Conv2D(16, 1, activation="relu"),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(128, 3, activation="relu"),
    layers.Conv2D(10, 1),
    layers.GlobalAveragePooling2D(),
])
inputs = keras.Input((32, 32, 64))
y = layers.Conv2D(64, 3, padding="same")(inputs)
y = layers.Conv2D(32, 3, padding="same")(y)
y = layers.Conv2D(64, 1)(y)
out = layers.Add()([inputs, y])
""",
        # A denoiser: the last convolution produces the output image's channels, at full
        # resolution by design (no classifier head).
        """
import tensorflow as tf
L = tf.keras.layers
model = tf.keras.Sequential([tf.keras.Input((None, None, 1))])
for _ in range(7):
    model.add(L.Conv2D(64, 3, padding="same", activation="relu"))
model.add(L.Conv2D(1, 3, padding="same"))
""",
        # The output layer's width is the task's; a narrower hidden layer before it is not
        # "widening".
        """
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense
model = Sequential()
model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
model.add(MaxPooling2D((2, 2)))
model.add(Flatten())
model.add(Dense(64, activation="relu"))
model.add(Dense(32, activation="relu"))
model.add(Dense(100, activation="softmax"))
""",
        # A large strided stem kernel, then 3x3 on a quarter-size map: the window's reach grows.
        """
import keras
from keras import layers
inputs = keras.Input((224, 224, 3))
x = layers.Conv2D(64, 7, strides=2, padding="same", activation="relu")(inputs)
x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(128, 3, strides=2, padding="same", activation="relu")(x)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(1000, activation="softmax")(x)
""",
        # Smaller kernel after pooling, shapes unknown: the reach cannot be compared.
        """
from tensorflow.keras import layers, Sequential
def build(input_shape):
    return Sequential([
        layers.Conv2D(32, 5, activation="relu", input_shape=input_shape),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
""",
        # A board game: a deep stack without pooling on an 8x8 board; a dilated 1D stack.
        """
from keras import Sequential, layers, Input
board = Sequential([Input((8, 8, 12))])
board.add(layers.Conv2D(128, 3, padding="same", activation="relu"))
board.add(layers.Conv2D(128, 3, padding="same", activation="relu"))
board.add(layers.Conv2D(128, 3, padding="same", activation="relu"))
board.add(layers.Conv2D(128, 3, padding="same", activation="relu"))
board.add(layers.Conv2D(128, 3, padding="same", activation="relu"))
board.add(layers.Conv2D(128, 3, padding="same", activation="relu"))
board.add(layers.Flatten())
board.add(layers.Dense(1, activation="tanh"))
tcn = Sequential([
    Input((1000, 1)),
    layers.Conv1D(32, 3, padding="causal", dilation_rate=1, activation="relu"),
    layers.Conv1D(32, 3, padding="causal", dilation_rate=2, activation="relu"),
    layers.Conv1D(32, 3, padding="causal", dilation_rate=4, activation="relu"),
    layers.Conv1D(32, 3, padding="causal", dilation_rate=8, activation="relu"),
    layers.Conv1D(32, 3, padding="causal", dilation_rate=16, activation="relu"),
    layers.Conv1D(32, 3, padding="causal", dilation_rate=32, activation="relu"),
    layers.GlobalMaxPooling1D(),
    layers.Dense(1),
])
""",
        # Deep, average pooling alongside max pooling; a shallow CNN pooling after every conv.
        """
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense
model = Sequential()
model.add(Conv2D(32, 3, padding="same", input_shape=(64, 64, 3)))
model.add(Conv2D(32, 3, padding="same"))
model.add(MaxPooling2D())
model.add(Conv2D(64, 3, padding="same"))
model.add(Conv2D(64, 3, padding="same"))
model.add(AveragePooling2D(2))
model.add(Conv2D(128, 3, padding="same"))
model.add(Conv2D(128, 3, padding="same"))
model.add(AveragePooling2D(2))
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
small = Sequential([
    Conv2D(32, 3, input_shape=(32, 32, 3)), MaxPooling2D(),
    Conv2D(64, 3), MaxPooling2D(),
    Conv2D(128, 3), MaxPooling2D(),
    Flatten(), Dense(10, activation="softmax"),
])
""",
        # MobileNet-style: depthwise 3x3 and pointwise 1x1 convolutions, strided down-sampling.
        """
import keras
from keras import layers
inputs = keras.Input((96, 96, 3))
x = layers.Conv2D(32, 3, strides=2, padding="same")(inputs)
x = layers.DepthwiseConv2D(3, padding="same")(x)
x = layers.Conv2D(64, 1)(x)
x = layers.DepthwiseConv2D(3, strides=2, padding="same")(x)
x = layers.Conv2D(128, 1)(x)
x = layers.DepthwiseConv2D(3, padding="same")(x)
x = layers.Conv2D(128, 1)(x)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(10, activation="softmax")(x)
""",
    )
    INVALID = (
        Invalid(  # Sequential list: fewer filters deeper in the network
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(64, 64, 3)),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
            (9,),
        ),
        Invalid(  # .add sequence: a classifier head that widens
            """
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense, Dropout

model = Sequential()
model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
model.add(MaxPooling2D((2, 2)))
model.add(Flatten())
model.add(Dense(64, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(256, activation="relu"))
model.add(Dense(10, activation="softmax"))
""",
            (11,),
        ),
        Invalid(  # .add in a loop: the kernel shrinks at the same resolution
            """
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.InputLayer(input_shape=(32, 32, 3))])
for kernel in (5, 3):
    model.add(tf.keras.layers.Conv2D(64, kernel, padding="same", activation="relu"))
model.add(tf.keras.layers.GlobalAveragePooling2D())
model.add(tf.keras.layers.Dense(10, activation="softmax"))
""",
            (6,),
        ),
        Invalid(  # functional chain: a deep stack that never down-samples
            """
import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
""",
            (6,),
        ),
        Invalid(  # nested calls: a 3x3 after a 5x5 on the same map; known shapes across pooling
            """
from tensorflow.keras import Input, layers

inputs = Input((28, 28, 1))
x = layers.Conv2D(64, 3, padding="same")(layers.Conv2D(32, 5, padding="same")(inputs))
y = layers.Conv2D(64, 7, padding="same")(Input((32, 32, 3)))
y = layers.MaxPooling2D()(y)
y = layers.Conv2D(128, 3, padding="same")(y)
""",
            (5, 8),
        ),
        Invalid(  # subclassed model: reported where the layer is created
            """
import tensorflow as tf

class SmallNet(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.conv1 = tf.keras.layers.Conv2D(128, 3, activation="relu")
        self.pool = tf.keras.layers.MaxPooling2D()
        self.conv2 = tf.keras.layers.Conv2D(64, 3, activation="relu")
        self.flatten = tf.keras.layers.Flatten()
        self.out = tf.keras.layers.Dense(10)

    def call(self, x):
        return self.out(self.flatten(self.conv2(self.pool(self.conv1(x)))))
""",
            (9,),
        ),
        Invalid(  # a helper block: only average pooling in a deep CNN
            """
import keras
from keras import layers

def block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.AveragePooling2D(2)(x)

inputs = keras.Input((64, 64, 3))
x = block(inputs, 32)
x = block(x, 64)
x = block(x, 128)
x = layers.Flatten()(x)
outputs = layers.Dense(10, activation="softmax")(x)
""",
            (8,),
        ),
        Invalid(  # import-less snippet: pooling after every convolution in a deep CNN
            """
model = Sequential()
model.add(Conv2D(32, (3, 3), padding='same', activation='relu', input_shape=(128, 128, 3)))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(64, (3, 3), padding='same', activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(64, (3, 3), padding='same', activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(128, (3, 3), padding='same', activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(128, (3, 3), padding='same', activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(256, (3, 3), padding='same', activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Flatten())
model.add(Dense(2, activation='softmax'))
""",
            (3,),
        ),
    )


def _same_stack(kinds: list, previous: _Conv, conv: _Conv) -> bool:
    """Whether two convolutions belong to one convolutional stack: only normalization, activation,
    dropout, padding, cropping and pooling layers between them (a Flatten, Dense, Reshape or
    recurrent layer starts another part of the network)."""
    return all(kind in _PLAIN or kind in POOLING or kind.startswith("Cropping")
               for kind in kinds[previous.index + 1:conv.index])


def _channels_first(node: LayerNode) -> Optional[bool]:
    given = node.args.value("data_format")
    if given is None:
        return False
    if isinstance(given, Const) and given.value in ("channels_first", "channels_last", None):
        return given.value == "channels_first"
    return None


class ShapeMismatch(Rule):
    """## What it does
    Propagates literal input shapes (`Input(shape=...)`, `input_shape=` on the first layer,
    `InputLayer`, `batch_shape=`) through the layer chain, in every code style, and checks for:

    - a convolution kernel or pooling window larger than the feature map it receives, with
      `padding="valid"` (dilation included);
    - a `Reshape` whose target does not hold the same number of elements as its input (or, with
      a `-1`, does not divide it).

    Reported at the offending layer, with the shapes. The analysis stays silent when a shape is not
    literal, when a layer it does not model (a `Lambda`, a custom layer) comes first, for layers
    built in loops (only some iterations are analysed), and when the file may switch the global
    image data format to `channels_first`.

    ## Why is this bad?
    Keras rejects these models when it builds them ("Negative dimension size", "Computed output
    size would be zero or negative", "total size of new array must be unchanged"), often far from
    the line that is wrong: usually too many pooling layers for a small input, or a Reshape target
    computed by hand for another input size.

    ## Example
    ```python
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),   # 26x26
        layers.MaxPooling2D(),                     # 13x13
        layers.Conv2D(64, 3, activation="relu"),   # 11x11
        layers.MaxPooling2D(),                     # 5x5
        layers.Conv2D(64, 7, activation="relu"),   # a 7x7 kernel on a 5x5 map
    ])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu", padding="same"),
    ])
    ```

    ## References
    - Nikanjam et al., "Automatic Fault Detection for Deep Learning Programs Using Graph
      Transformations" (TOSEM 2021): NeuraLint's f013 and f021
    - [Keras: Conv2D](https://keras.io/api/layers/convolution_layers/convolution2d/),
      [Reshape](https://keras.io/api/layers/reshaping_layers/reshape/)
    """

    code = "KT110"
    name = "shape-mismatch"
    summary = "Kernel/pooling window larger than the feature map, or a Reshape that changes the size"

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        if not kfile.nodes:
            return
        for mismatch in shapes_of(kfile).mismatches:
            node = mismatch.node
            yield Finding(node.call, mismatch.message, node.statement)

    VALID = (
        # padding="same" keeps a map smaller than the window working; windows equal to the map fit.
        """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(8, 8, 3)),
    layers.Conv2D(16, 5, activation="relu"),             # 4x4
    layers.MaxPooling2D(pool_size=4, padding="same"),    # 1x1
    layers.Conv2D(32, 3, padding="same"),
    layers.Conv2D(8, 1),
    layers.Flatten(),
    layers.Reshape((2, 4)),
])
""",
        # A Reshape with -1 that divides the input; a kernel exactly as large as its map.
        """
import keras
from keras import layers

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Reshape((-1, 28))(inputs)
x = layers.Conv1D(16, 28)(x)
x = layers.Reshape((4, 4))(x)
""",
        # The input shape is not a literal: nothing is known.
        """
from tensorflow import keras
model = keras.Sequential()
model.add(keras.layers.MaxPooling2D(8, input_shape=x_train.shape[1:]))
model.add(keras.layers.Reshape((3, 3, 3)))
""",
        # A loop adds three poolings; only two iterations are analysed, so what follows is unknown.
        """
from tensorflow.keras import Sequential, layers
model = Sequential()
model.add(layers.Conv2D(8, 3, padding="same", input_shape=(24, 24, 1)))
for _ in range(3):
    model.add(layers.MaxPooling2D())
model.add(layers.Reshape((9, 8)))
""",
        # if/else alternatives: the Reshape sees one of two shapes; the linter cannot tell which.
        """
import keras
from keras import layers
def build(small):
    model = keras.Sequential([layers.InputLayer(input_shape=(32, 32, 3))])
    if small:
        model.add(layers.MaxPooling2D(4))
    else:
        model.add(layers.MaxPooling2D(2))
    model.add(layers.Reshape((64, 12)))
    return model
""",
        # A layer the analysis does not model (a Lambda) hides the shape after it.
        """
import keras
from keras import layers
inputs = keras.Input(shape=(16,))
x = layers.Lambda(lambda t: t[:, :4])(inputs)
x = layers.Reshape((2, 2))(x)
""",
        # The file switches to channels_first: (1, 28, 28) is a 28x28 image there.
        """
from keras import backend as K
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D
K.set_image_data_format("channels_first")
model = Sequential()
model.add(Conv2D(32, (3, 3), input_shape=(1, 28, 28)))
model.add(MaxPooling2D(pool_size=(2, 2)))
""",
        # channels_first given on the layers themselves.
        """
from keras import Sequential, layers
model = Sequential([
    layers.Input(shape=(3, 32, 32)),
    layers.Conv2D(16, 3, data_format="channels_first"),
    layers.MaxPooling2D(2, data_format="channels_first"),
    layers.Reshape((16, 225)),
])
""",
        # Keras 1's Conv2D(32, 3, 3) (a 3x3 kernel there, strides=3 in Keras 2): unknown.
        """
from keras.models import Sequential
from keras.layers import Conv2D, Reshape
model = Sequential()
model.add(Conv2D(32, 3, 3, input_shape=(28, 28, 1)))
model.add(Reshape((26 * 26, 32)))
""",
        # A subclassed model receives its input shape at call time.
        """
import tensorflow as tf
class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.pool = tf.keras.layers.MaxPooling2D(64)
        self.reshape = tf.keras.layers.Reshape((7, 7))
    def call(self, x):
        return self.reshape(self.pool(x))
""",
    )
    INVALID = (
        Invalid(  # Sequential list: the last kernel no longer fits the pooled map
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, activation="relu"),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 7, activation="relu"),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
""",
            (11,),
        ),
        Invalid(  # .add sequence: a Reshape target computed for another input size
            """
from keras.models import Sequential
from keras.layers import Dense, Reshape, Conv1D

model = Sequential()
model.add(Dense(64, activation="relu", input_dim=20))
model.add(Reshape((8, 9)))
model.add(Conv1D(16, 3))
""",
            (7,),
        ),
        Invalid(  # .add in a loop: its first iteration already gets a 2x2 map
            """
from tensorflow.keras import Sequential
from tensorflow.keras.layers import Conv2D, MaxPooling2D

model = Sequential()
model.add(MaxPooling2D(pool_size=4, input_shape=(8, 8, 3)))
for filters in (32, 64):
    model.add(Conv2D(filters, (3, 3), activation="relu"))
""",
            (8,),
        ),
        Invalid(  # a helper adding a pooling layer, called once too often
            """
from tensorflow.keras import Sequential, layers

def add_block(model, filters):
    model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=3))

model = Sequential([layers.InputLayer(input_shape=(16, 16, 8))])
add_block(model, 16)
add_block(model, 32)
add_block(model, 64)
""",
            (6,),
        ),
        Invalid(  # functional chain: -1 cannot absorb the remainder
            """
import keras
from keras import layers

inputs = keras.Input(shape=(10,))
x = layers.Dense(30, activation="relu")(inputs)
x = layers.Reshape((-1, 7))(x)
outputs = layers.LSTM(8)(x)
model = keras.Model(inputs, outputs)
""",
            (7,),
        ),
        Invalid(  # nested calls, a dilated kernel, Keras 3's batch_shape
            """
import keras
from keras import layers

inputs = keras.Input(batch_shape=(None, 40, 3))
x = layers.Conv1D(8, 3, dilation_rate=4)(layers.MaxPooling1D(5)(inputs))
""",
            (6,),
        ),
        Invalid(  # a Sequential built in a subclassed model's __init__
            """
import tensorflow as tf

class Classifier(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.features = tf.keras.Sequential([
            tf.keras.layers.InputLayer(input_shape=(32, 32, 3)),
            tf.keras.layers.Conv2D(32, 3, strides=2),
            tf.keras.layers.AveragePooling2D(pool_size=(16, 16)),
        ])
        self.head = tf.keras.layers.Dense(10)

    def call(self, x):
        return self.head(self.features(x))
""",
            (10,),
        ),
        Invalid(  # a channels-first input shape (an old tutorial's) under the channels_last default
            """
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

model = Sequential()
model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(1, 28, 28)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(10, activation="softmax"))
""",
            (6,),
        ),
        Invalid(  # import-less snippet
            """
model = Sequential()
model.add(Embedding(1000, 16, input_length=50))
model.add(Conv1D(32, 5, activation='relu'))
model.add(MaxPooling1D(5))
model.add(Conv1D(32, 5, activation='relu'))
model.add(MaxPooling1D(5))
model.add(Conv1D(32, 5, activation='relu'))
""",
            (8,),
        ),
    )


__all__ = ["CnnDesign", "ShapeMismatch", "chains"]
