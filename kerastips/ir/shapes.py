"""Static shape propagation over the IR's layer graph, from literal input shapes.

A shape is a tuple of per-sample dimensions (no batch axis): ``(28, 28, 1)``; a dimension is
``None`` when the code does not fix it (``Input(shape=(None, 3))``). A whole shape is ``None``
(unknown) as soon as anything on the way is not understood: an unknown layer (a Lambda, a custom
layer, a tensor op), a non-literal argument, inputs that disagree (if/else alternatives), Keras 1
arguments. Everything downstream of an unknown shape is unknown: the analysis only speaks when it
is sure.

Shapes enter at `Input(shape=...)`/`Input(batch_shape=...)`, `InputLayer`, and `input_shape=`/
`batch_input_shape=` (or `input_dim=` on Dense, `input_length=` on Embedding) on a layer without
inputs, such as the first layer of a Sequential model. Each node is computed once from its inputs'
shapes (memoized, iterative): linear in the size of the graph. Channels-last unless a layer says
`data_format="channels_first"`.

Two things make a computed shape untrustworthy, and are checked only for the shapes a rule asks
for (they cost a pass over the module): a layer built or applied in a loop (the IR analyses at
most two iterations, so the layer's output, and everything after it, is not the real model's; its
input on the first iteration is), and the default data format in a file that may switch it
(`set_image_data_format`, `image_data_format()`, "channels_first" anywhere in the file).

Where a layer cannot apply to its input (a window larger than the feature map with
``padding="valid"``, a Reshape that changes the number of elements), the mismatch is recorded in
:attr:`Shapes.mismatches` and the layer's output is unknown (one report per broken chain).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import libcst as cst

from kerastips.ir.model import Const, KerasFile, LayerNode, Seq
from kerastips.ir.names import ACTIVATION_LAYERS, BATCHNORM_LAYERS, NOISE_LAYERS

Shape = Tuple[Optional[int], ...]

# Layer families, by short Keras name -> number of spatial dimensions.
CONVOLUTIONS = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3, "Convolution1D": 1, "Convolution2D": 2,
                "Convolution3D": 3, "SeparableConv1D": 1, "SeparableConv2D": 2,
                "SeparableConvolution1D": 1, "SeparableConvolution2D": 2}
DEPTHWISE = {"DepthwiseConv1D": 1, "DepthwiseConv2D": 2}
TRANSPOSED = {"Conv1DTranspose": 1, "Conv2DTranspose": 2, "Conv3DTranspose": 3,
              "Convolution2DTranspose": 2, "Convolution3DTranspose": 3}
MAX_POOLING = {"MaxPooling1D": 1, "MaxPooling2D": 2, "MaxPooling3D": 3,
               "MaxPool1D": 1, "MaxPool2D": 2, "MaxPool3D": 3}
AVERAGE_POOLING = {"AveragePooling1D": 1, "AveragePooling2D": 2, "AveragePooling3D": 3,
                   "AvgPool1D": 1, "AvgPool2D": 2, "AvgPool3D": 3}
POOLING = {**MAX_POOLING, **AVERAGE_POOLING}
GLOBAL_POOLING = {f"Global{kind}Pool{suffix}{n}D": n for kind in ("Max", "Average", "Avg")
                  for suffix in ("", "ing") for n in (1, 2, 3)}
UPSAMPLING = {"UpSampling1D": 1, "UpSampling2D": 2, "UpSampling3D": 3}
ZERO_PADDING = {"ZeroPadding1D": 1, "ZeroPadding2D": 2, "ZeroPadding3D": 3}
CROPPING = {"Cropping1D": 1, "Cropping2D": 2, "Cropping3D": 3}
RECURRENT = frozenset({"LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"})
MERGE_ELEMENTWISE = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})
# Layers whose output has the shape of their input.
IDENTITY = (
    ACTIVATION_LAYERS | BATCHNORM_LAYERS | NOISE_LAYERS
    | {"LayerNormalization", "GroupNormalization", "UnitNormalization", "ActivityRegularization",
       "Identity", "Masking", "Rescaling", "Normalization", "RandomFlip", "RandomRotation",
       "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness"}
)

_ABSENT = object()
_NOT_LITERAL = object()


class _GiveUp(Exception):
    """An argument or input the analysis does not understand: the output is unknown."""


@dataclass(frozen=True)
class Mismatch:
    """A layer that cannot apply to the shape it receives."""

    node: LayerNode
    kind: str  # "window" | "reshape"
    message: str


def shapes_of(kfile: KerasFile) -> "Shapes":
    """The (cached) shape analysis of a file, shared by the rules that use it."""
    return kfile.memo("shapes", lambda: Shapes(kfile))


class Shapes:
    """Input and output shapes of every node of a file's layer graph (None: unknown).

    Propagation runs once over the graph; what might make a result wrong (a layer built in a
    loop, a default data format in a file that may switch to channels_first) is checked only
    for the results asked for, so a file pays for those checks only when a rule needs a shape."""

    def __init__(self, kfile: KerasFile) -> None:
        self.kfile = kfile
        self._raw_mismatches: list[Mismatch] = []
        self._mismatches: Optional[list[Mismatch]] = None
        self._inputs: dict[LayerNode, Optional[Shape]] = {}
        self._outputs: dict[LayerNode, Optional[Shape]] = {}
        self._trusted: dict[LayerNode, bool] = {}  # whether a node's (known) output is trusted
        self._assumed: set[LayerNode] = set()  # nodes that took the default data format
        self._loops: Optional[_LoopRegion] = None
        self._format_unsure: Optional[bool] = None
        self._sequential_inputs: Optional[dict] = None
        for node in kfile.nodes:
            self._compute(node)

    def input(self, node: LayerNode) -> Optional[Shape]:
        """The shape a node receives (None: unknown, or inputs of different shapes)."""
        shape = self._inputs.get(node)
        return shape if shape is not None and self._trusted_input(node) else None

    def output(self, node: LayerNode) -> Optional[Shape]:
        shape = self._outputs.get(node)
        return shape if shape is not None and self._trusted_output(node) else None

    @property
    def mismatches(self) -> list[Mismatch]:
        """Layers that cannot apply to the (trusted) shape they receive, in graph order."""
        if self._mismatches is None:
            self._mismatches = [m for m in self._raw_mismatches
                                if self._trusted_input(m.node) and self._own_format_known(m.node)]
        return self._mismatches

    def repeated(self, node: LayerNode) -> bool:
        """Whether the node is built or applied in a loop (directly or through a helper called in
        one): the IR saw only some of its iterations."""
        if self._loops is None:
            self._loops = _LoopRegion(self.kfile.module)
        return self._loops.contains(node)

    # ---- trust -------------------------------------------------------------------------------

    def _own_format_known(self, node: LayerNode) -> bool:
        if node not in self._assumed:
            return True
        if self._format_unsure is None:
            code = self.kfile.module.code
            self._format_unsure = any(word in code for word in ("channels_first", "image_data_format",
                                                                "image_dim_ordering"))
        return not self._format_unsure

    def _trusted_input(self, node: LayerNode) -> bool:
        return all(self._trusted_output(p) for p in self.kfile.inputs_of(node)) if node.kind not in (
            "input", "opaque") else True

    def _trusted_output(self, start: LayerNode) -> bool:
        """A known output is trusted when neither the node nor anything before it was built in a
        loop or took a data format the file may change. Memoized, iterative."""
        stack: list[tuple[LayerNode, bool]] = [(start, False)]
        visiting: set[int] = set()
        while stack:
            node, expanded = stack.pop()
            if node in self._trusted:
                continue
            sources = [] if node.kind in ("input", "opaque") else list(self.kfile.inputs_of(node))
            if expanded:
                self._trusted[node] = all(self._trusted.get(p, False) for p in sources) and (
                    node.kind in ("input", "opaque") or not self.repeated(node)
                ) and self._own_format_known(node)
                continue
            if id(node) in visiting:
                continue
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in sources if p not in self._trusted and id(p) not in visiting)
        return self._trusted[start]

    # ---- propagation -------------------------------------------------------------------------

    def _compute(self, start: LayerNode) -> None:
        if start in self._outputs:
            return
        stack: list[tuple[LayerNode, bool]] = [(start, False)]
        visiting: set[int] = set()
        while stack:
            node, expanded = stack.pop()
            if node in self._outputs:
                continue
            preds = self.kfile.inputs_of(node)
            if expanded:
                # A predecessor still being visited is a cycle (a shared layer in a loop): unknown.
                incoming = [self._outputs.get(p) for p in preds]
                shape = self._input_shape(node, incoming)
                self._inputs[node] = shape
                self._outputs[node] = self._apply(node, shape, incoming)
                continue
            if id(node) in visiting:
                continue
            visiting.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in preds if p not in self._outputs and id(p) not in visiting)

    def _input_shape(self, node: LayerNode, incoming: list) -> Optional[Shape]:
        if not incoming:
            return self._declared_input(node)
        first = incoming[0]
        if first is None or any(other != first for other in incoming[1:]):
            return None  # unknown, or alternatives (if/else, a shared layer) that disagree
        return first

    def _declared_input(self, node: LayerNode) -> Optional[Shape]:
        """`input_shape=` and friends on a layer nothing feeds (the first layer of a Sequential)."""
        if not node.is_keras_layer:
            return None
        try:
            for keyword in ("input_shape", "batch_input_shape"):
                value = _literal(node.args.value(keyword))
                if value is not _ABSENT:
                    shape = _shape(value)
                    return shape[1:] if keyword.startswith("batch") and shape else shape
            if node.short == "Dense":
                dim = _literal(node.args.value("input_dim"))
                if dim is not _ABSENT:
                    return (_dim(dim),)
            if node.short == "Embedding":
                length = _literal(node.args.value("input_length"))
                if length is not _ABSENT:
                    return (_dim(length),)
        except _GiveUp:
            return None
        return None

    def _apply(self, node: LayerNode, shape: Optional[Shape], incoming: list) -> Optional[Shape]:
        if node.kind == "input":
            return self._input_node(node)
        if node.kind == "opaque":
            source = self._sequential_input(node)
            return self._input_node(source) if source is not None else None
        return self._known(node, shape, incoming)

    def _known(self, node: LayerNode, shape: Optional[Shape], incoming: list) -> Optional[Shape]:
        if node.kind.startswith("op:"):
            return shape  # an activation function applied to a tensor
        if not node.is_keras_layer or node.args.star or node.args.keras1:
            return None
        short = node.short
        if short in MERGE_ELEMENTWISE or short == "Concatenate":
            return self._merge(node, incoming)
        if shape is None:
            return None
        try:
            return self._layer(node, short, shape)
        except _GiveUp:
            return None

    def _layer(self, node: LayerNode, short: str, shape: Shape) -> Optional[Shape]:
        if short in IDENTITY:
            return shape
        if short == "Dense":
            _require(len(shape) >= 1)
            return shape[:-1] + (_positive(self._arg(node, "units", 0)),)
        if short in CONVOLUTIONS or short in DEPTHWISE or short in TRANSPOSED:
            return self._convolution(node, short, shape)
        if short in POOLING:
            return self._pooling(node, POOLING[short], shape)
        if short in GLOBAL_POOLING:
            spatial, channels, first = self._split(node, GLOBAL_POOLING[short], shape, 0)
            keepdims = self._arg(node, "keepdims", 1, False)
            if keepdims is True:
                return self._join((1,) * len(spatial), channels, first)
            _require(keepdims is False)
            return (channels,)
        if short == "Flatten":
            _require(len(shape) >= 1)
            return (_product(shape),)
        if short == "Reshape":
            return self._reshape(node, shape)
        if short == "Embedding":
            return shape + (_positive(self._arg(node, "output_dim", 1)),)
        if short in UPSAMPLING:
            n = UPSAMPLING[short]
            spatial, channels, first = self._split(node, n, shape, 1 if n > 1 else None)
            size = _per_dim(self._arg(node, "size", 0, 2), n)
            return self._join(tuple(_times(d, s) for d, s in zip(spatial, size)), channels, first)
        if short in ZERO_PADDING or short in CROPPING:
            n = ZERO_PADDING.get(short) or CROPPING[short]
            padding = short in ZERO_PADDING
            spatial, channels, first = self._split(node, n, shape, 1 if n > 1 else None)
            amounts = _pairs(self._arg(node, "padding" if padding else "cropping", 0, 1 if padding else 0), n)
            sign = 1 if padding else -1
            resized = tuple(None if d is None else d + sign * (a + b) for d, (a, b) in zip(spatial, amounts))
            _require(all(d is None or d > 0 for d in resized))
            return self._join(resized, channels, first)
        if short in RECURRENT:
            _require(len(shape) == 2)
            units = _positive(self._arg(node, "units", 0))
            _require(self._arg(node, "return_state", None, False) is False)
            sequences = self._arg(node, "return_sequences", None, False)
            _require(isinstance(sequences, bool))
            return (shape[0], units) if sequences else (units,)
        if short == "Bidirectional":
            inner = node.args.value("layer", 0)
            _require(isinstance(inner, LayerNode) and inner.short in RECURRENT)
            single = self._layer(inner, inner.short, shape)
            mode = self._arg(node, "merge_mode", 1, "concat")
            _require(single is not None and mode in ("concat", "sum", "mul", "ave"))
            return single[:-1] + (single[-1] * 2,) if mode == "concat" else single
        if short == "RepeatVector":
            _require(len(shape) == 1)
            return (_positive(self._arg(node, "n", 0)),) + shape
        if short == "Permute":
            dims = self._arg(node, "dims", 0)
            _require(isinstance(dims, tuple) and sorted(dims) == list(range(1, len(shape) + 1)))
            return tuple(shape[d - 1] for d in dims)
        return None

    # ---- layer families ----------------------------------------------------------------------

    def _convolution(self, node: LayerNode, short: str, shape: Shape) -> Shape:
        depthwise, transposed = short in DEPTHWISE, short in TRANSPOSED
        n = DEPTHWISE.get(short) or TRANSPOSED.get(short) or CONVOLUTIONS[short]
        positional = node.args.positional
        if not depthwise and n >= 2 and len(positional) > 2 and isinstance(_literal(positional[2][0]), int):
            raise _GiveUp  # Conv2D(32, 3, 3): Keras 1's (nb_row, nb_col), or Keras 2's strides?
        # DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate)
        # ConvND(filters, kernel_size, strides, padding, data_format, dilation_rate)
        # ConvNDTranspose(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate)
        at = {"kernel_size": 1, "strides": 2, "padding": 3, "data_format": 4, "dilation_rate": 5}
        if depthwise:
            at = {key: index - 1 for key, index in at.items()}
            at["data_format"], at["dilation_rate"] = 4, 5
        elif transposed:
            at["data_format"], at["dilation_rate"] = 5, 6
        kernel = _per_dim(self._arg(node, "kernel_size", at["kernel_size"]), n)
        strides = _per_dim(self._arg(node, "strides", at["strides"], 1), n)
        padding = self._arg(node, "padding", at["padding"], "valid")
        dilation = _per_dim(self._arg(node, "dilation_rate", at["dilation_rate"], 1), n)
        _require(isinstance(padding, str))
        padding = padding.lower()
        spatial, channels, first = self._split(node, n, shape, at["data_format"])
        if depthwise:
            multiplier = _positive(self._arg(node, "depth_multiplier", 3, 1))
            filters = None if channels is None else channels * multiplier
        else:
            filters = _positive(self._arg(node, "filters", 0))
        windows = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
        if transposed:
            _require(padding in ("valid", "same") and self._arg(node, "output_padding", 4, None) is None)
            out = tuple(None if length is None else (
                length * s + max(w - s, 0) if padding == "valid" else length * s)
                for length, w, s in zip(spatial, windows, strides))
            return self._join(out, filters, first)
        _require(padding in ("valid", "same") or (padding == "causal" and n == 1))
        described = "kernel" + ("" if all(d == 1 for d in dilation) else " (dilated)")
        return self._join(self._windowed(node, spatial, windows, strides, padding, described), filters, first)

    def _pooling(self, node: LayerNode, n: int, shape: Shape) -> Shape:
        pool = _per_dim(self._arg(node, "pool_size", 0, 2), n)
        strides_given = self._arg(node, "strides", 1, None)
        strides = pool if strides_given is None else _per_dim(strides_given, n)
        padding = self._arg(node, "padding", 2, "valid")
        _require(isinstance(padding, str) and padding.lower() in ("valid", "same"))
        spatial, channels, first = self._split(node, n, shape, 3)
        out = self._windowed(node, spatial, pool, strides, padding.lower(), "pool_size")
        return self._join(out, channels, first)

    def _windowed(self, node: LayerNode, spatial: tuple, windows: tuple, strides: tuple, padding: str,
                  name: str) -> tuple:
        if padding != "valid":
            return tuple(None if length is None else -(-length // s) for length, s in zip(spatial, strides))
        if any(length is not None and w > length for length, w in zip(spatial, windows)):
            shape = self._inputs[node]
            advice = "pool or stride less before it, or use padding='same'"
            raw_input = all(p.kind in ("input", "opaque") for p in self.kfile.inputs_of(node))
            if raw_input and node in self._assumed and shape[0] in (1, 3) and (shape[-1] or 0) > 4:
                advice = ("the input looks channels-first: reorder it to "
                          f"{_show(shape[1:] + shape[:1])} or pass data_format='channels_first'")
            self._raw_mismatches.append(Mismatch(node, "window", (
                f"{node.short} {name} {_by(windows)} is larger than the {_by(spatial)} feature map "
                f"it receives (input shape {_show(shape)}); with padding='valid' the output would "
                f"be empty: {advice}")))
            raise _GiveUp
        return tuple(None if length is None else (length - w) // s + 1
                     for length, w, s in zip(spatial, windows, strides))

    def _reshape(self, node: LayerNode, shape: Shape) -> Shape:
        target = self._arg(node, "target_shape", 0)
        if isinstance(target, int):
            target = (target,)
        _require(isinstance(target, tuple) and all(isinstance(d, int) and (d > 0 or d == -1) for d in target)
                 and list(target).count(-1) <= 1)
        total = None if any(d is None for d in shape) else _product(shape)
        known = _product(tuple(d for d in target if d != -1))
        if total is None:
            _require(-1 not in target)
            return target
        if (-1 in target and total % known) or (-1 not in target and known != total):
            wanted = f"a multiple of {known}" if -1 in target else str(known)
            self._raw_mismatches.append(Mismatch(node, "reshape", (
                f"Reshape to {_show(target)} needs {wanted} elements, but its input "
                f"{_show(shape)} has {total}")))
            raise _GiveUp
        return tuple(total // known if d == -1 else d for d in target)

    def _merge(self, node: LayerNode, incoming: list) -> Optional[Shape]:
        if not incoming or any(shape is None for shape in incoming):
            return None
        first = incoming[0]
        if node.short != "Concatenate":
            return first if all(shape == first for shape in incoming) else None
        # The inputs must be one list applied once: alternatives (if/else) look the same in the graph.
        applications = [u for u in node.uses if u.kind == "apply"]
        if len(applications) != 1 or node.args.star:
            return None
        given = applications[0].node.args[0].value if applications[0].node.args else None
        if not isinstance(given, (cst.List, cst.Tuple)) or len(given.elements) != len(incoming) or any(
            isinstance(e, cst.StarredElement) for e in given.elements
        ):
            return None
        try:
            axis = self._arg(node, "axis", 0, -1)
        except _GiveUp:
            return None
        rank = len(first)
        if not isinstance(axis, int) or not -rank - 1 <= axis <= rank or axis == 0 or any(
            len(shape) != rank for shape in incoming
        ):
            return None
        axis = axis - 1 if axis > 0 else rank + axis  # per-sample axis (the batch axis is 0)
        if any(s[:axis] + s[axis + 1:] != first[:axis] + first[axis + 1:] for s in incoming):
            return None
        sizes = [s[axis] for s in incoming]
        total = None if any(d is None for d in sizes) else sum(sizes)
        return first[:axis] + (total,) + first[axis + 1:]

    # ---- data formats ------------------------------------------------------------------------

    def _channels_first(self, node: LayerNode, position: Optional[int]) -> bool:
        given = self._arg(node, "data_format", position, None)
        if given is None:
            self._assumed.add(node)  # channels_last, unless the file changes the default
            return False
        _require(given in ("channels_last", "channels_first"))
        return given == "channels_first"

    def _split(self, node: LayerNode, n: int, shape: Shape, position: Optional[int]) -> tuple:
        """(spatial dimensions, channels, channels_first) of an input of rank n + 1."""
        _require(len(shape) == n + 1)
        if self._channels_first(node, position):
            return shape[1:], shape[0], True
        return shape[:-1], shape[-1], False

    @staticmethod
    def _join(spatial: tuple, channels, first: bool) -> Shape:
        return ((channels,) + tuple(spatial)) if first else (tuple(spatial) + (channels,))

    # ---- arguments ---------------------------------------------------------------------------

    def _arg(self, node: LayerNode, keyword: str, position: Optional[int], default=_ABSENT):
        value = _literal(node.args.value(keyword, position))
        if value is _ABSENT:
            if default is _ABSENT:
                raise _GiveUp
            return default
        if value is _NOT_LITERAL:
            raise _GiveUp
        return value

    # ---- model inputs ------------------------------------------------------------------------

    def _input_node(self, node: LayerNode) -> Optional[Shape]:
        """`Input(shape=...)`, `Input(batch_shape=...)`, `InputLayer(input_shape=...)`."""
        if node.call is None or node.args.star:
            return None  # a subclassed model's call() input
        try:
            for keyword, position, batch in (("shape", 0, False), ("input_shape", None, False),
                                             ("batch_shape", None, True), ("batch_input_shape", None, True)):
                value = _literal(node.args.value(keyword, position))
                if value is not _ABSENT:
                    shape = _shape(value)
                    if batch:
                        _require(len(shape) >= 1)
                        return shape[1:]
                    return shape
        except _GiveUp:
            return None
        return None

    def _sequential_input(self, node: LayerNode) -> Optional[LayerNode]:
        """`Sequential([Input(shape=...), ...])` or `model.add(Input(...))`: the IR puts an opaque
        node in the model where the Input tensor goes; find the Input it stands for."""
        if self._sequential_inputs is None:
            self._sequential_inputs = {id(n.call): n for n in self.kfile.nodes
                                       if n.kind == "input" and n.call is not None}
        call = node.call
        if not isinstance(call, cst.Call) or not self._sequential_inputs:
            return None
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "add":
            argument = call.args[0].value if call.args else None
            return self._sequential_inputs.get(id(argument))
        for model in self.kfile.models:
            if model.node is call and model.kind == "sequential" and model.nodes and model.nodes[0] is node:
                listed = next((a.value for a in call.args if a.keyword is None or a.keyword.value == "layers"),
                              None)
                if isinstance(listed, (cst.List, cst.Tuple)) and listed.elements:
                    return self._sequential_inputs.get(id(listed.elements[0].value))
        return None


# ---- loops -------------------------------------------------------------------------------------


class _LoopRegion(cst.CSTVisitor):
    """Statements that may run more often than the IR analysed them: loop bodies, statements
    holding a comprehension, and the bodies of functions called from those (by name,
    transitively). One visit of the module, made only when a node with a known shape asks."""

    def __init__(self, module: cst.Module) -> None:
        self.region: set[int] = set()
        self._depth = 0  # loops and comprehensions around the node being visited
        self._statements: list[cst.CSTNode] = []
        self._functions: list[cst.FunctionDef] = []
        self._defined: dict[str, list[cst.FunctionDef]] = {}
        self._inside: dict[int, list[int]] = {}  # function -> the statements in it
        self._calls: dict[int, set[str]] = {}  # function -> the names it calls
        self._looped: set[str] = set()  # names called in a loop or comprehension
        module.visit(self)
        pending, seen, done = list(self._looped), set(self._looped), set()
        while pending:
            for function in self._defined.get(pending.pop(), ()):
                if id(function) in done:
                    continue
                done.add(id(function))
                self.region.update(self._inside[id(function)])
                for name in self._calls[id(function)] - seen:
                    seen.add(name)
                    pending.append(name)

    def contains(self, node: LayerNode) -> bool:
        statements = [node.statement] + [use.statement for use in node.uses if use.kind in ("apply", "add")]
        return any(s is not None and id(s) in self.region for s in statements)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)):
            self._statements.append(node)
            if self._depth:
                self.region.add(id(node))
            for function in self._functions:
                self._inside[id(function)].append(id(node))
        if isinstance(node, cst.Call):
            func = node.func
            name = func.value if isinstance(func, cst.Name) else (
                func.attr.value if isinstance(func, cst.Attribute) else None)
            if name is not None:
                if self._depth:
                    self._looped.add(name)
                for function in self._functions:
                    self._calls[id(function)].add(name)
        elif isinstance(node, cst.FunctionDef):
            self._defined.setdefault(node.name.value, []).append(node)
            self._inside[id(node)], self._calls[id(node)] = [], set()
            self._functions.append(node)
        elif isinstance(node, (cst.For, cst.While)):
            if isinstance(node, cst.For):
                node.target.visit(self)
                node.iter.visit(self)
            else:
                node.test.visit(self)
            self._depth += 1
            node.body.visit(self)
            self._depth -= 1
            if node.orelse is not None:
                node.orelse.visit(self)
            return False
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            self.region.update(id(s) for s in self._statements[-2:])  # the line, its small statement
            self._depth += 1
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, (cst.BaseStatement, cst.BaseSmallStatement)):
            self._statements.pop()
        if isinstance(original_node, cst.FunctionDef):
            self._functions.pop()
        elif isinstance(original_node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            self._depth -= 1


# ---- literal arguments -------------------------------------------------------------------------


def _literal(value):
    """A Python value from an IR value: numbers, strings, None and tuples of those;
    _ABSENT when the argument is not given, _NOT_LITERAL when it is not a literal."""
    if value is None:
        return _ABSENT
    if isinstance(value, Const):
        if isinstance(value.value, list):
            return tuple(value.value)
        return value.value
    if isinstance(value, Seq) and not value.repeated:
        items = tuple(_literal(item) for item in value.items)
        return _NOT_LITERAL if any(item is _NOT_LITERAL or item is _ABSENT for item in items) else items
    return _NOT_LITERAL


def _shape(value) -> Shape:
    """A declared shape: a tuple of sizes (None for a free dimension), or a single int."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (_dim(value),)
    _require(isinstance(value, tuple))
    return tuple(_dim(d) for d in value)


def _dim(value) -> Optional[int]:
    if value is None:
        return None
    _require(isinstance(value, int) and not isinstance(value, bool) and value > 0)
    return value


def _positive(value) -> int:
    _require(isinstance(value, int) and not isinstance(value, bool) and value > 0)
    return value


def _per_dim(value, n: int) -> tuple:
    """`3` -> (3, 3); `(3, 5)` -> (3, 5): one positive int per spatial dimension."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    _require(isinstance(value, tuple) and len(value) == n)
    return tuple(_positive(v) for v in value)


def _pairs(value, n: int) -> tuple:
    """ZeroPadding/Cropping amounts: `1`, `(1, 2)` (symmetric per dim), `((1, 1), (2, 2))`."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    _require(isinstance(value, tuple))
    if n == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        value = (value,)  # Cropping1D((1, 2)): before and after
    _require(len(value) == n)
    pairs = tuple((v, v) if isinstance(v, int) else v for v in value)
    _require(all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(a, int) and a >= 0 for a in p)
                 for p in pairs))
    return pairs


def _times(dim: Optional[int], factor: int) -> Optional[int]:
    return None if dim is None else dim * _positive(factor)


def _product(shape: tuple) -> Optional[int]:
    if any(d is None for d in shape):
        return None
    return math.prod(shape)


def _require(condition: bool) -> None:
    if not condition:
        raise _GiveUp


def _by(dims: tuple) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def _show(shape) -> str:
    if shape is None:
        return "?"
    parts = ["None" if d is None else str(d) for d in shape]
    return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"


__all__ = ["Mismatch", "Shape", "Shapes", "shapes_of"]
