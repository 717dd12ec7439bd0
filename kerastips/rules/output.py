"""Output layer and loss rules (KT2xx): the model's last activation against the loss it trains with.

Every rule here asks the same two questions: what does the model output (the activation of its
last layer, the width of that layer) and what does the loss expect (probabilities or logits, one
class per unit or independent units, a bounded or unbounded target)? Both answers come from the IR;
when either is unclear (an opaque last layer, an activation given by an unresolved variable, a
custom loss function, a multi-output model whose losses cannot be matched to its outputs) the rules
stay silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst

from kerastips.edits import Applicability, Edit, Fix, call, replace_argument_value, with_argument
from kerastips.ir.model import (
    UNKNOWN,
    Const,
    Data,
    KerasFile,
    LayerNode,
    LossCall,
    LossValue,
    Mapping_,
    ModelValue,
    Ref,
    Seq,
    Tensor,
    Value,
    is_layer_kind,
)
from kerastips.ir.names import ACTIVATION_LAYERS, BATCHNORM_LAYERS, LINEAR_WITH_ACTIVATION, NOISE_LAYERS
from kerastips.rules.base import Finding, Invalid, Rule, Severity
from kerastips.rules.chain_edits import _assigned_name, layer_call
from kerastips.rules.spelling import keras_name

# ---- what the model outputs -------------------------------------------------------------------

# Layers that keep the last axis (and every value's meaning) as it is.
_SAME_WIDTH = NOISE_LAYERS | BATCHNORM_LAYERS | ACTIVATION_LAYERS | {
    "LayerNormalization", "GroupNormalization", "UnitNormalization", "ActivityRegularization", "Identity"
}
# Layers an output's activation passes through unchanged (noise is off at inference; a reshape
# moves values without changing them, but the last axis is no longer the one the activation saw;
# global pooling averages or picks values over space and keeps the channel axis last).
_GLOBAL_POOLING = frozenset(
    {"GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
     "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
     "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D"}
)
_KEEP_ACTIVATION = NOISE_LAYERS | _GLOBAL_POOLING | {"Activation", "Identity"}
_RESHAPING = frozenset({"Flatten", "Reshape", "Permute", "UpSampling1D", "UpSampling2D", "UpSampling3D",
                        "Cropping1D", "Cropping2D", "Cropping3D"})
_WIDTH_ARGUMENT = {"Dense": "units"} | {
    name: "filters" for name in LINEAR_WITH_ACTIVATION
    if name.startswith(("Conv", "SeparableConv", "LocallyConnected"))
}


@dataclass(frozen=True)
class Output:
    """A model output as far as the code shows it: the activation that produces it (None: linear),
    the width of its last axis when literal, and the layer applying the activation."""

    activation: Optional[str]
    units: Optional[int]
    layer: LayerNode

    @property
    def facts(self) -> tuple:
        return self.activation, self.units

    def describe(self) -> str:
        width = f"{self.units}-unit " if self.units is not None else ""
        if self.activation is None:
            return f"a {width}linear output ({self.layer.short} without activation)"
        return f"a {width}{self.activation} output"


def _literal_int(value: Value | None) -> Optional[int]:
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool) \
            and not value.soft:
        return value.value
    return None


def _sole_input(kfile: KerasFile, node: LayerNode) -> Optional[LayerNode]:
    inputs = kfile.inputs_of(node)
    return next(iter(inputs)) if len(inputs) == 1 else None


def _last_axis(node: LayerNode) -> bool:
    """Whether a softmax applies over the last axis (the default everywhere)."""
    if node.kind.startswith("op:"):
        axis = node.args.get("axis", 1) or node.args.get("dim")
    elif node.short == "Softmax":
        axis = node.args.get("axis", 0)
    else:
        return True
    return axis is None or (isinstance(axis[0], Const) and axis[0].value == -1)


def width(kfile: KerasFile, node: LayerNode, depth: int = 0) -> Optional[int]:
    """The literal size of the last axis of a node's output (Dense units, Conv filters), looking
    through layers that keep it; None when the code does not say."""
    if depth > 16:
        return None
    if node.is_keras_layer and node.short == "TimeDistributed":
        inner = node.args.value("layer", 0)
        return width(kfile, inner, depth + 1) if isinstance(inner, LayerNode) else None
    if node.is_keras_layer and node.short in _WIDTH_ARGUMENT:
        data_format = node.args.value("data_format")
        if data_format is not None and not (isinstance(data_format, Const) and data_format.value == "channels_last"):
            return None  # channels first: the activation's last axis is not the filters'
        return _literal_int(node.args.value(_WIDTH_ARGUMENT[node.short], 0))
    keeps_channels = is_layer_kind(node, _GLOBAL_POOLING) and node.args.get("data_format") is None
    if node.kind.startswith("op:") or is_layer_kind(node, _SAME_WIDTH) or keeps_channels:
        source = _sole_input(kfile, node)
        return width(kfile, source, depth + 1) if source is not None else None
    return None


def output_of(kfile: KerasFile, node: LayerNode) -> Optional[Output]:
    """What a model's output node produces, or None when it cannot be told."""
    reshaped = False
    for _ in range(16):
        if node.is_keras_layer and node.short == "TimeDistributed":
            inner = node.args.value("layer", 0)
            if not isinstance(inner, LayerNode):
                return None
            node = inner
            continue
        activation = node.activation()
        passing = is_layer_kind(node, _KEEP_ACTIVATION | _RESHAPING) and (
            activation is None or (activation is UNKNOWN and node.short != "Activation"))
        if not passing:
            if activation is UNKNOWN:
                return None
            if activation is not None:
                units = None if reshaped or not _last_axis(node) else width(kfile, node)
                return Output(activation, units, node)
            if node.is_keras_layer and node.short in LINEAR_WITH_ACTIVATION:
                return Output(None, None if reshaped else width(kfile, node), node)
            return None
        reshaped = reshaped or node.short in _RESHAPING or (
            node.short in _GLOBAL_POOLING and node.args.get("data_format") is not None)
        source = _sole_input(kfile, node)
        if source is None:
            return None
        node = source
    return None


def agreed_output(kfile: KerasFile, nodes) -> Optional[Output]:
    """The output of one model output that may come from several nodes (branches of the code):
    known only when every one of them says the same."""
    found = [output_of(kfile, node) for node in nodes]
    if not found or any(o is None for o in found) or len({o.facts for o in found}) != 1:
        return None
    return found[0]


@dataclass(frozen=True)
class Slot:
    """One output of a model: the nodes that may produce it and the names it goes by."""

    nodes: frozenset
    names: frozenset


def output_slots(kfile: KerasFile, model: ModelValue) -> tuple[list, bool] | None:
    """The outputs of a model, and whether their order is known; None when the code hides them."""
    tail = model.tail
    if not tail:
        return None
    if model.cls is not None and any(m in model.cls.methods for m in ("train_step", "compute_loss")):
        return None  # the model decides itself what the compiled loss is applied to
    if model.kind in ("sequential", "subclass"):
        return [Slot(tail, _names(tail))], False
    if model.kind != "functional" or not isinstance(model.node, cst.Call):
        return None
    expr = _outputs_argument(model.node)
    if isinstance(expr, (cst.List, cst.Tuple, cst.Dict)) and len(expr.elements) > 1:
        matched = _match_outputs(kfile, expr, tail)
        if matched is not None:
            return matched, True
    return [Slot(tail, _names(tail))], False


def _names(nodes) -> frozenset:
    names = set()
    for node in nodes:
        name = node.args.value("name")
        if isinstance(name, Const) and isinstance(name.value, str):
            names.add(name.value)
    return frozenset(names)


def _outputs_argument(model_call: cst.Call) -> Optional[cst.BaseExpression]:
    positional = [arg for arg in model_call.args if arg.keyword is None and not arg.star]
    for arg in model_call.args:
        if arg.keyword is not None and arg.keyword.value in ("outputs", "output"):
            return arg.value
    return positional[1].value if len(positional) > 1 else None


def _match_outputs(kfile: KerasFile, expr, tail: frozenset) -> Optional[list]:
    """Pair the elements of `Model(inputs, [a, b])` (or `{"a": a}`) with the tail nodes that
    produce them: a layer applied right there, or a name it was assigned to."""
    slots, claimed = [], set()
    for element in expr.elements:
        if isinstance(element, (cst.StarredElement, cst.StarredDictElement)):
            return None
        nodes = frozenset(node for node in tail if _produces(node, element.value))
        if not nodes or nodes & claimed:
            return None
        claimed |= nodes
        names = _names(nodes)
        if isinstance(element, cst.DictElement):
            key = _string(element.key)
            if key is None:
                return None
            names = names | {key}
        slots.append(Slot(nodes, names))
    return slots if claimed == set(tail) else None


def _produces(node: LayerNode, expr: cst.BaseExpression) -> bool:
    for use in node.uses:
        if use.kind != "apply":
            continue
        if use.node is expr:
            return True
        if isinstance(expr, cst.Name) and _assigned_name(use) == expr.value:
            return True
    return False


def _string(node) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# ---- what the loss expects ----------------------------------------------------------------------

BINARY, CATEGORICAL, SPARSE, REGRESSION = "binary", "categorical", "sparse", "regression"
CROSS_ENTROPY = (BINARY, CATEGORICAL, SPARSE)

# Loss names (lower case, no underscores): strings, keras.losses functions and classes.
_FAMILIES = {
    "binarycrossentropy": BINARY, "bce": BINARY, "binaryfocalcrossentropy": BINARY,
    "categoricalcrossentropy": CATEGORICAL, "cce": CATEGORICAL, "categoricalfocalcrossentropy": CATEGORICAL,
    "sparsecategoricalcrossentropy": SPARSE, "scce": SPARSE,
    "mse": REGRESSION, "meansquarederror": REGRESSION, "mae": REGRESSION, "meanabsoluteerror": REGRESSION,
    "msle": REGRESSION, "meansquaredlogarithmicerror": REGRESSION, "huber": REGRESSION,
    "huberloss": REGRESSION, "logcosh": REGRESSION,
}
# The loss class a cross-entropy name stands for (the object that takes from_logits=).
_CLASSES = {
    "binarycrossentropy": "BinaryCrossentropy", "bce": "BinaryCrossentropy",
    "binaryfocalcrossentropy": "BinaryFocalCrossentropy",
    "categoricalcrossentropy": "CategoricalCrossentropy", "cce": "CategoricalCrossentropy",
    "categoricalfocalcrossentropy": "CategoricalFocalCrossentropy",
    "sparsecategoricalcrossentropy": "SparseCategoricalCrossentropy", "scce": "SparseCategoricalCrossentropy",
}
# Where from_logits may be given positionally: loss classes, then loss functions (after y_true, y_pred).
_CLASS_LOGITS_POSITION = {"BinaryCrossentropy": 0, "CategoricalCrossentropy": 0,
                          "SparseCategoricalCrossentropy": 0, "BinaryFocalCrossentropy": 3,
                          "CategoricalFocalCrossentropy": 2}
_FUNCTION_LOGITS_POSITION = {"binary_crossentropy": 2, "categorical_crossentropy": 2,
                             "sparse_categorical_crossentropy": 2}
_KERAS_LOSS_MODULES = ("keras.losses", "keras.metrics", "keras.backend", "tensorflow.losses",
                       "tensorflow.compat.v1.losses", "tensorflow.keras.losses")
# TF1 losses on tensors: (family, takes logits, keyword of the prediction, keyword of the labels).
_TENSOR_LOSSES = {
    "losses.softmax_cross_entropy": (CATEGORICAL, True, "logits", "onehot_labels"),
    "losses.sparse_softmax_cross_entropy": (SPARSE, True, "logits", "labels"),
    "losses.sigmoid_cross_entropy": (BINARY, True, "logits", "multi_class_labels"),
    "losses.log_loss": (BINARY, False, "predictions", "labels"),
    "losses.mean_squared_error": (REGRESSION, False, "predictions", "labels"),
    "losses.absolute_difference": (REGRESSION, False, "predictions", "labels"),
    "losses.huber_loss": (REGRESSION, False, "predictions", "labels"),
    "nn.softmax_cross_entropy_with_logits": (CATEGORICAL, True, "logits", "labels"),
    "nn.softmax_cross_entropy_with_logits_v2": (CATEGORICAL, True, "logits", "labels"),
    "nn.sparse_softmax_cross_entropy_with_logits": (SPARSE, True, "logits", "labels"),
    "nn.sigmoid_cross_entropy_with_logits": (BINARY, True, "logits", "labels"),
    "nn.weighted_cross_entropy_with_logits": (BINARY, True, "logits", "labels"),
}


def _normalized(name: str) -> str:
    return name.lower().replace("_", "")


@dataclass(frozen=True)
class LossSpec:
    """A loss as the code gives it."""

    family: str
    name: str  # as written, for messages
    from_logits: Optional[bool]  # None: not told
    value: Value
    expr: Optional[cst.CSTNode]  # where it is written (a string, a function, the loss object)
    tensor_op: bool = False  # a TF1 op on tensors: its logits/probabilities contract is fixed

    @property
    def logits_argument(self) -> Optional[cst.Arg]:
        """The literal `from_logits=` argument of a loss object, when written."""
        if not isinstance(self.value, LossValue):
            return None
        position = _CLASS_LOGITS_POSITION.get(_short(self.value.kind))
        return _argument(self.value.call, "from_logits", position)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _argument(node: cst.Call, keyword: str, position: Optional[int]) -> Optional[cst.Arg]:
    index = 0
    for arg in node.args:
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg
        elif not arg.star:
            if index == position:
                return arg
            index += 1
    return None


def _flag(value: Value | None, star: bool) -> Optional[bool]:
    """A boolean argument's literal value: its default (False) when absent, None when not told."""
    if value is None:
        return None if star else False
    if isinstance(value, Const) and isinstance(value.value, bool) and not value.soft:
        return value.value
    return None


def loss_spec(value: Value, expr: Optional[cst.CSTNode]) -> Optional[LossSpec]:
    """The loss a compile() gets, when it is a Keras loss the linter knows."""
    if isinstance(value, Const) and isinstance(value.value, str) and not value.soft:
        family = _FAMILIES.get(_normalized(value.value))
        return LossSpec(family, value.value, False, value, expr) if family else None
    if isinstance(value, Ref):
        module, _, short = value.name.rpartition(".")
        family = _FAMILIES.get(_normalized(short))
        if family and module in _KERAS_LOSS_MODULES and short[:1].islower():
            return LossSpec(family, short, False, value, expr)
        return None
    if isinstance(value, LossValue):
        module, _, short = value.kind.rpartition(".")
        family = _FAMILIES.get(_normalized(short))
        if not family or module not in _KERAS_LOSS_MODULES:
            return None
        logits = _flag(value.args.value("from_logits", _CLASS_LOGITS_POSITION.get(short)), value.args.star)
        return LossSpec(family, short, logits if family in CROSS_ENTROPY else False, value, expr)
    return None


def tensor_loss_spec(kfile: KerasFile, loss) -> Optional[tuple[LossSpec, Value | None, Value | None]]:
    """A loss computed on tensors: its spec, the prediction it is given, and the labels."""
    module, _, short = loss.kind.rpartition(".")
    table_key = f"{_short(module)}.{short}"
    if table_key in _TENSOR_LOSSES and module in ("tensorflow.losses", "tensorflow.compat.v1.losses",
                                                  "tensorflow.nn", "tensorflow.compat.v1.nn"):
        family, logits, prediction, labels = _TENSOR_LOSSES[table_key]
        spec = LossSpec(family, kfile.code(loss.node.func), logits, Ref(loss.kind), None, tensor_op=True)
        return spec, loss.args.value(prediction, 1), loss.args.value(labels, 0)
    family = _FAMILIES.get(_normalized(short))
    if family is None or module not in _KERAS_LOSS_MODULES or not short[:1].islower():
        return None
    logits = _flag(loss.args.value("from_logits", _FUNCTION_LOGITS_POSITION.get(short)), loss.args.star)
    spec = LossSpec(family, kfile.code(loss.node.func), logits if family in CROSS_ENTROPY else False,
                    Ref(loss.kind), None)
    prediction = loss.args.value("y_pred", 1) or loss.args.value("output")
    return spec, prediction, loss.args.value("y_true", 0) or loss.args.value("target")


# ---- a loss meeting an output -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One loss applied to one model output, and where a finding about it is reported."""

    loss: LossSpec
    output: Optional[Output]  # None: the output cannot be told (the rules stay silent)
    labels: tuple  # Data the loss is trained against, when the code shows it
    node: cst.CSTNode  # the compile call or the loss call
    statement: Optional[cst.CSTNode]
    origin: object  # the CompileCall or LossCall

    @property
    def onehot_labels(self) -> bool:
        return any(d.onehot for d in self.labels)

    @property
    def raw_labels(self) -> Optional[Data]:
        return next((d for d in self.labels if d.scaled is False), None)


def cases(kfile: KerasFile) -> Iterator[Case]:
    for compile_call in kfile.compiles:
        if compile_call.context.in_test:
            continue
        given = compile_call.args.get("loss", 1)
        if given is None:
            continue
        labels = tuple(y for fit in kfile.fits_of(compile_call.model)
                       if isinstance(y := fit.args.value("y", 1), Data))
        found = output_slots(kfile, compile_call.model)
        slots, ordered = found if found is not None else ([None], False)
        for value, expr, slot in _pair(given[0], given[1], slots, ordered):
            spec = loss_spec(value, expr)
            if spec is not None:
                output = agreed_output(kfile, slot.nodes) if slot is not None else None
                yield Case(spec, output, labels, compile_call.node, compile_call.context.statement,
                           compile_call)
    for loss in kfile.losses:
        if loss.context.in_test:
            continue
        found = tensor_loss_spec(kfile, loss)
        if found is None:
            continue
        spec, prediction, labels = found
        output = agreed_output(kfile, prediction.producers) if isinstance(prediction, Tensor) else None
        data = (labels,) if isinstance(labels, Data) else ()
        yield Case(spec, output, data, loss.node, loss.context.statement, loss)


def _pair(value: Value, expr, slots: list, ordered: bool):
    """(loss, its expression, output slot) triples: one loss for every output, a list in the
    outputs' order, a dict by output name. Whatever cannot be matched is left out."""
    if isinstance(value, Mapping_):
        for key, item in value.keys.items():
            matched = [slot for slot in slots if slot is not None and key in slot.names]
            if len(matched) == 1:
                yield item, _dict_value(expr, key), matched[0]
        return
    if isinstance(value, Seq):
        if not value.repeated and len(value.items) == len(slots) and (ordered or len(slots) == 1):
            elements = expr.elements if isinstance(expr, (cst.List, cst.Tuple)) else ()
            exact = len(elements) == len(slots) and not any(isinstance(e, cst.StarredElement) for e in elements)
            for index, item in enumerate(value.items):
                yield item, elements[index].value if exact else None, slots[index]
        return
    for slot in slots:
        yield value, expr, slot


def _dict_value(expr, key: str):
    if isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.DictElement) and _string(element.key) == key:
                return element.value
    return None


def loss_mismatch(case: Case) -> Optional[str]:
    """KT203: a loss whose idea of the classes contradicts the output (or the labels)."""
    loss, out = case.loss, case.output
    if loss.family not in CROSS_ENTROPY:
        return None
    if out is not None and loss.family == BINARY and out.activation == "softmax" \
            and out.units is not None and out.units > 2:
        return (f"{loss.name} on {out.describe()}: binary cross-entropy scores each class as an "
                "independent yes/no; use categorical_crossentropy (one-hot labels) or "
                "sparse_categorical_crossentropy (integer labels)")
    if out is not None and loss.family in (CATEGORICAL, SPARSE) and out.units == 1:
        return (f"{loss.name} on a 1-unit output: cross-entropy over a single class is constant, so "
                "the model learns nothing; use binary_crossentropy with a sigmoid output")
    if out is not None and loss.family in (CATEGORICAL, SPARSE) and out.activation == "sigmoid":
        return (f"{loss.name} on a sigmoid output: sigmoid units are independent probabilities, not a "
                "distribution over classes; use a softmax output (one class per sample) or "
                "binary_crossentropy (multi-label)")
    if loss.family == SPARSE and case.onehot_labels:
        return (f"{loss.name} with one-hot labels (to_categorical): sparse losses take integer "
                "class ids; use categorical_crossentropy, or train on the integer labels")
    return None


def logits_mismatch(case: Case) -> Optional[str]:
    """KT202: "a" when probabilities are treated as logits, "b" when logits as probabilities."""
    loss, out = case.loss, case.output
    if out is None or loss.family not in CROSS_ENTROPY or loss_mismatch(case) is not None:
        return None
    if loss.from_logits is True and out.activation in ("softmax", "sigmoid"):
        return "a"
    if loss.from_logits is False and out.activation is None:
        return "b"
    return None


_BOUNDS = {"sigmoid": "(0, 1)", "tanh": "(-1, 1)"}


def bounded_regression(case: Case) -> Optional[str]:
    """KT204: a regression loss on an output that cannot reach the targets."""
    loss, out = case.loss, case.output
    if out is None or loss.family != REGRESSION:
        return None
    if out.activation == "softmax" and out.units != 1:  # one unit: KT201's constant output
        return (f"{loss.name} on a softmax output fits class probabilities with a regression loss; "
                "use categorical_crossentropy for classification, or a linear output for regression")
    raw = case.raw_labels
    if out.activation in _BOUNDS and raw is not None:
        what = "raw pixel values (0-255)" if raw.image else "unscaled values"
        return (f"{loss.name} on a {out.activation} output bounded to {_BOUNDS[out.activation]}, but "
                f"the targets are {what}; scale the targets to that range or use a linear output")
    return None


# ---- fixes ---------------------------------------------------------------------------------------


def _statement_of(kfile: KerasFile, node: cst.CSTNode, near: Optional[cst.CSTNode]) -> Optional[cst.CSTNode]:
    """The simple statement that holds `node`: `near` when it does, else the assignment whose
    value it is (`loss_fn = keras.losses.X(...)`)."""
    if near is not None and _contains(near, node):
        return near
    for body, index in kfile.siblings.values():
        statement = body[index]
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Assign) and small.value is node:
                return statement
    return None


def _contains(tree: cst.CSTNode, node: cst.CSTNode) -> bool:
    found = False

    class Finder(cst.CSTVisitor):
        def on_visit(self, each: cst.CSTNode) -> bool:
            nonlocal found
            found = found or each is node
            return not found

    tree.visit(Finder())
    return found


def _single_use(kfile: KerasFile, statement: cst.CSTNode, expr: Optional[cst.CSTNode]) -> bool:
    """Whether the loss object assigned in `statement` is used only where `expr` names it (so
    changing the object changes nothing else)."""
    small = statement.body[0]
    target = small.targets[0].target if len(small.targets) == 1 else None
    if not (isinstance(target, cst.Name) and isinstance(expr, cst.Name) and expr.value == target.value):
        return False
    return len(re.findall(rf"(?<![\w.]){re.escape(target.value)}\b", kfile.module.code)) == 2


def from_logits_fix(kfile: KerasFile, case: Case, logits: bool) -> Optional[Fix]:
    """Set `from_logits=<logits>` on the loss, turning a string or function loss into the loss
    object when it must become True."""
    loss, word = case.loss, cst.Name("True" if logits else "False")
    if isinstance(loss.value, LossValue):
        target = loss.value.call
        statement = _statement_of(kfile, target, case.statement)
        if statement is None or (statement is not case.statement
                                 and not _single_use(kfile, statement, loss.expr)):
            return None
        argument = loss.logits_argument
        if argument is not None:
            if not (isinstance(argument.value, cst.Name) and argument.value.value in ("True", "False")):
                return None  # from_logits given by a variable: the user's to change
            rewrite = lambda u: replace_argument_value(u, argument, word)  # noqa: E731
        elif logits:
            rewrite = lambda u: with_argument(u, "from_logits", word)  # noqa: E731
        else:
            return None
        return Fix(Applicability.UNSAFE, (Edit(target, rewrite, statement),))
    if loss.tensor_op:
        return None
    if isinstance(case.origin, LossCall):  # a keras loss function on tensors: its from_logits=
        node = case.node
        argument = _argument(node, "from_logits", _FUNCTION_LOGITS_POSITION.get(_short(loss.value.name)))
        if argument is not None:
            if not (isinstance(argument.value, cst.Name) and argument.value.value in ("True", "False")):
                return None
            rewrite = lambda u: replace_argument_value(u, argument, word)  # noqa: E731
        elif logits:
            rewrite = lambda u: with_argument(u, "from_logits", word)  # noqa: E731
        else:
            return None
        return Fix(Applicability.UNSAFE, (Edit(node, rewrite, case.statement),))
    if not logits:
        return None
    expr = loss.expr
    class_name = _CLASSES.get(_normalized(loss.name))
    if expr is None or class_name is None:
        return None
    imports: tuple = ()
    if isinstance(expr, cst.SimpleString) and isinstance(loss.value, Const):
        callee, imports = keras_name(kfile, f"losses.{class_name}")
    elif isinstance(expr, cst.Attribute) and isinstance(loss.value, Ref):
        callee = f"{kfile.code(expr.value)}.{class_name}"
    elif isinstance(expr, cst.Name) and isinstance(loss.value, Ref) and expr.value in kfile.imports:
        module = kfile.imports[expr.value].rsplit(".", 1)[0]
        callee, imports = class_name, ((module, class_name),)
    else:
        return None  # a string held in a variable: the variable is the user's to change
    replacement = call(callee, from_logits=word)
    return Fix(Applicability.UNSAFE, (Edit(expr, lambda u: replacement, case.statement),), imports)


def _fix_targets(case: Case) -> tuple:
    """What a from_logits fix of this case would edit (cases sharing it must agree)."""
    if isinstance(case.loss.value, LossValue):
        return (id(case.loss.value.call),)
    return (id(case.loss.expr),) if case.loss.expr is not None else (id(case.node),)


def _reports(cases_and_verdicts: list) -> Iterator[tuple[Case, object, bool]]:
    """One report per reporting node: (case, verdict, whether every use of what a fix would edit
    got this same verdict)."""
    by_target: dict = {}
    for case, verdict in cases_and_verdicts:
        for target in _fix_targets(case):
            by_target.setdefault(target, set()).add(verdict)
    by_node: dict = {}
    for case, verdict in cases_and_verdicts:
        by_node.setdefault(id(case.node), []).append((case, verdict))
    for group in by_node.values():
        flagged = [(case, verdict) for case, verdict in group if verdict is not None]
        if not flagged:
            continue
        case, verdict = flagged[0]
        agreed = all(by_target[target] == {verdict} for target in _fix_targets(case))
        yield case, verdict, agreed


# ---- the rules ------------------------------------------------------------------------------------


def _softmax_fix(kfile: KerasFile, node: LayerNode) -> Optional[Fix]:
    """The softmax this node applies becomes a sigmoid, spelled as the file spells the softmax."""
    if node.kind.startswith("op:"):
        func = node.call.func
        replacement = _sigmoid_spelling(kfile, func, node.short)
        if replacement is None:
            return None
        new, imports = replacement
        return Fix(Applicability.UNSAFE, (Edit(func, lambda u: new, node.statement),), imports)
    if node.short == "Softmax":
        if any(arg.keyword is None or arg.keyword.value != "axis" for arg in node.call.args):
            return None
        sigmoid, imports = layer_call(kfile, node, "Activation", cst.SimpleString('"sigmoid"'))
        return Fix(Applicability.UNSAFE, (Edit(node.call, lambda u: sigmoid, node.statement),), imports)
    got = node.args.get("activation", 1 if node.short == "Dense" else (0 if node.short == "Activation" else None))
    if got is None:
        return None
    given, value = got
    if isinstance(value, cst.SimpleString):
        new = cst.SimpleString(f"{value.prefix}{value.quote}sigmoid{value.quote}")
        imports: tuple = ()
    else:
        replacement = _sigmoid_spelling(kfile, value, _short(given.name)) if isinstance(given, Ref) else None
        if replacement is None:
            return None
        new, imports = replacement
    return Fix(Applicability.UNSAFE, (Edit(value, lambda u: new, node.statement),), imports)


def _sigmoid_spelling(kfile: KerasFile, expr: cst.BaseExpression, function: str):
    """`tf.nn.softmax` -> `tf.nn.sigmoid`; an imported `softmax` -> `sigmoid`, imported alike."""
    if function != "softmax":
        return None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "softmax":
        return expr.with_changes(attr=cst.Name("sigmoid")), ()
    if isinstance(expr, cst.Name) and expr.value in kfile.imports:
        module = kfile.imports[expr.value].rsplit(".", 1)[0]
        return cst.Name("sigmoid"), ((module, "sigmoid"),)
    return None


def single_unit_softmax(kfile: KerasFile, node: LayerNode) -> bool:
    """Whether a node applies softmax over a last axis of one unit."""
    if node.activation() != "softmax" or not _last_axis(node):
        return False
    if node.is_keras_layer and node.short in _WIDTH_ARGUMENT:
        return width(kfile, node) == 1
    source = _sole_input(kfile, node)
    return source is not None and width(kfile, source) == 1


class SoftmaxSingleUnit(Rule):
    """## What it does
    Checks for a softmax over a single unit: `Dense(1, activation="softmax")`, a `Softmax()` or
    `Activation("softmax")` layer (or `tf.nn.softmax`) on a 1-unit layer, in every code style
    (also TF1 `tf.layers.dense`). A softmax over another axis (`Softmax(axis=1)`) is not flagged.

    ## Why is this bad?
    Softmax normalizes its inputs so that they sum to one. Over a single unit that sum is the unit
    itself: the output is always exactly 1.0, whatever the input, and no gradient flows back through
    it. A binary classifier built this way predicts the positive class for every sample. (Keras on
    the TensorFlow backend may still train the layer below, when a cross-entropy loss reads the
    logits it cached before the softmax, but `predict()` and every metric still see 1.0.) A single
    probability needs a sigmoid.

    ## Example
    ```python
    model = keras.Sequential([
        layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([
        layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    ```

    ## Fix safety
    The softmax becomes a sigmoid, spelled as the softmax was (`"softmax"` -> `"sigmoid"`,
    `tf.nn.softmax` -> `tf.nn.sigmoid`, `Softmax()` -> `Activation("sigmoid")`). The model's
    outputs change from a constant 1.0 to real probabilities, and training starts to do something:
    the fix is unsafe. A softmax inside the model (on attention scores, most likely, where a
    softmax over another axis was meant) is reported without a fix.

    ## References
    - [Keras: Softmax layer](https://keras.io/api/layers/activation_layers/softmax/)
    - [Keras: sigmoid activation](https://keras.io/api/layers/activations/#sigmoid-function)
    """

    code = "KT201"
    name = "softmax-single-unit"
    summary = "Softmax over a single unit: the output is always 1.0"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        for node in kfile.nodes:
            if node.call is None or node.activation() != "softmax":
                continue
            if not all(single_unit_softmax(kfile, each) for each in kfile.instances(node)):
                continue  # the code also builds wider layers (a helper called with other widths)
            advice = "use sigmoid for a single probability"
            hidden = any(kfile.outputs_of(each) for each in kfile.instances(node))
            if hidden:  # attention scores, most likely: which axis was meant is the user's call
                advice += ", or apply the softmax over the axis that holds the scores (Softmax(axis=1))"
            yield Finding(
                node.call,
                f"softmax over a single unit always outputs 1.0; {advice}",
                node.statement,
                None if hidden else _softmax_fix(kfile, node),
            )

    VALID = (
        # A sigmoid on one unit; a softmax over ten.
        """
from tensorflow import keras
from tensorflow.keras import layers
binary = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
multi = keras.Sequential([layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")])
""",
        # Attention weights: a softmax over the time axis of a 1-unit score.
        """
import tensorflow as tf
from tensorflow.keras import layers
scores = layers.Dense(1, activation="tanh")(hidden)
weights = layers.Softmax(axis=1)(scores)
weights2 = tf.nn.softmax(scores, axis=1)
""",
        # The width comes from a parameter the linter cannot resolve.
        """
import keras
def head(n_classes):
    return keras.layers.Dense(n_classes, activation="softmax")
""",
        # A Flatten between the 1-unit scores and the softmax: the softmax runs over the time steps.
        """
from keras import layers
e = layers.Dense(1, activation="tanh")(x)
e = layers.Flatten()(e)
a = layers.Activation("softmax")(e)
""",
        # A helper called with one unit and with ten: the line itself is not wrong.
        """
import keras
def head(x, n):
    return keras.layers.Dense(n, activation="softmax")(x)
a = head(x, 1)
b = head(x, 10)
""",
    )
    INVALID = (
        Invalid(  # Sequential list
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(32, activation="relu"),
    layers.Dense(1, activation="softmax"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
""",
            (7,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Dense(32, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
""",
        ),
        Invalid(  # .add, positional activation, single quotes
            """
from keras.models import Sequential
from keras.layers import Dense

model = Sequential()
model.add(Dense(12, input_dim=8, activation='relu'))
model.add(Dense(1, 'softmax'))
""",
            (7,),
            fixed="""
from keras.models import Sequential
from keras.layers import Dense

model = Sequential()
model.add(Dense(12, input_dim=8, activation='relu'))
model.add(Dense(1, 'sigmoid'))
""",
        ),
        Invalid(  # functional: a Softmax layer after a 1-unit Dense (through Dropout)
            """
import keras
from keras import layers

inputs = keras.Input(shape=(20,))
x = layers.Dense(1)(inputs)
x = layers.Dropout(0.1)(x)
outputs = layers.Softmax()(x)
model = keras.Model(inputs, outputs)
""",
            (8,),
            fixed="""
import keras
from keras import layers

inputs = keras.Input(shape=(20,))
x = layers.Dense(1)(inputs)
x = layers.Dropout(0.1)(x)
outputs = layers.Activation("sigmoid")(x)
model = keras.Model(inputs, outputs)
""",
        ),
        Invalid(  # nested calls, activation given as a function
            """
import tensorflow as tf

inputs = tf.keras.Input(shape=(8,))
outputs = tf.keras.layers.Dense(1, activation=tf.nn.softmax)(tf.keras.layers.Dense(16, activation="relu")(inputs))
""",
            (5,),
            fixed="""
import tensorflow as tf

inputs = tf.keras.Input(shape=(8,))
outputs = tf.keras.layers.Dense(1, activation=tf.nn.sigmoid)(tf.keras.layers.Dense(16, activation="relu")(inputs))
""",
        ),
        Invalid(  # subclassed model: reported where the layer is created
            """
import keras

class Classifier(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(64, activation="relu")
        self.out = keras.layers.Dense(1, activation="softmax")

    def call(self, x):
        return self.out(self.hidden(x))
""",
            (8,),
            fixed="""
import keras

class Classifier(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(64, activation="relu")
        self.out = keras.layers.Dense(1, activation="sigmoid")

    def call(self, x):
        return self.out(self.hidden(x))
""",
        ),
        Invalid(  # TF1: tf.nn.softmax on a 1-unit tf.layers.dense
            """
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 30])
h = tf.layers.dense(x, 16, activation=tf.nn.relu)
logit = tf.layers.dense(h, 1)
prob = tf.nn.softmax(logit)
""",
            (7,),
            fixed="""
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 30])
h = tf.layers.dense(x, 16, activation=tf.nn.relu)
logit = tf.layers.dense(h, 1)
prob = tf.nn.sigmoid(logit)
""",
        ),
        Invalid(  # a 1-filter convolution with a softmax (a segmentation head)
            """
from tensorflow.keras import layers
mask = layers.Conv2D(1, (1, 1), activation="softmax")(features)
""",
            (3,),
            fixed="""
from tensorflow.keras import layers
mask = layers.Conv2D(1, (1, 1), activation="sigmoid")(features)
""",
        ),
        Invalid(  # TF1 functional layer with the softmax as its activation
            """
import tensorflow as tf
logit = tf.layers.dense(h, 1, activation=tf.nn.softmax, name="out")
""",
            (3,),
            fixed="""
import tensorflow as tf
logit = tf.layers.dense(h, 1, activation=tf.nn.sigmoid, name="out")
""",
        ),
        Invalid(  # attention scores inside the model: reported without a fix
            """
from tensorflow.keras import layers
scores = layers.Dense(1, activation="softmax")(layers.Dense(32, activation="tanh")(sequence))
context = layers.Dot(axes=1)([scores, sequence])
""",
            (3,),
        ),
        Invalid(  # the activation from a variable: reported, left to the user
            """
from tensorflow.keras import layers, Sequential
OUT = "softmax"
model = Sequential([layers.Dense(8, activation="relu"), layers.Dense(1, activation=OUT)])
""",
            (4,),
        ),
    )


class LogitsMismatch(Rule):
    """## What it does
    Checks that a cross-entropy loss and the model's last layer agree on logits:

    - (a) the loss takes logits (`from_logits=True`, or a TF1 `*_cross_entropy_with_logits` /
      `tf.losses.softmax_cross_entropy` op) while the last layer already applies softmax or
      sigmoid;
    - (b) the loss takes probabilities (`from_logits` False, its default, also every string loss
      such as `"categorical_crossentropy"`) while the last layer has no activation (a linear
      `Dense`/`Conv`).

    Reported at the compile call that carries the loss (TF1 and custom loops: at the loss call).
    Multi-output models are checked where the losses can be matched to the outputs (one loss for
    all, a list in the outputs' order, a dict by output name). An output layer the linter cannot
    see (a loaded model, an opaque layer, an activation from an unresolved variable) and custom
    loss functions are not checked.

    ## Why is this bad?
    (a) The probabilities go through softmax (or sigmoid) a second time inside the loss: outputs
    squashed into [0, 1] give a nearly uniform second softmax, gradients shrink, and training
    stalls at a poor accuracy. That is what the JAX and PyTorch backends and TF1 ops compute; Keras
    on the TensorFlow backend spots the case, warns, and uses the logits it cached before the
    activation, so the same script trains differently depending on the backend. (b) The loss clips
    the unbounded linear outputs into [eps, 1 - eps] and takes their log as if they were
    probabilities: negative outputs all look like "0", the gradient vanishes for them, and the loss
    value is meaningless, on every backend.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ```

    ## Use instead
    ```python
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ```

    ## Fix safety
    (a) `from_logits=True` becomes `from_logits=False`, so the model's `predict()` keeps returning
    probabilities (dropping the activation would turn them into logits). On the TensorFlow backend
    training stays as it was, without the warning; on the other backends the double squashing
    stops. (b) The loss gets `from_logits=True`; a string or function loss becomes the loss object
    (`keras.losses.SparseCategoricalCrossentropy(from_logits=True)`, spelled as the file spells
    Keras). `predict()` still returns logits then, and a probability metric such as `"accuracy"` on
    a 1-unit output thresholds them at 0.5 rather than 0. Both can change what the model learns:
    the fix is unsafe. A loss object shared with other code, a `from_logits` given by a variable,
    and TF1 ops are reported without a fix.

    ## References
    - [Keras: probabilistic losses](https://keras.io/api/losses/probabilistic_losses/)
    - [TensorFlow: tf.nn.softmax_cross_entropy_with_logits](https://www.tensorflow.org/api_docs/python/tf/nn/softmax_cross_entropy_with_logits)
    """

    code = "KT202"
    name = "logits-mismatch"
    summary = "Cross-entropy from_logits disagrees with the output layer's activation"
    severity = Severity.ERROR
    fix_applicability = Applicability.UNSAFE

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        judged = [(case, logits_mismatch(case)) for case in cases(kfile)]
        for case, verdict, agreed in _reports(judged):
            yield Finding(case.node, self.message(case, verdict), case.statement,
                          from_logits_fix(kfile, case, verdict == "b") if agreed else None)

    @staticmethod
    def message(case: Case, verdict: str) -> str:
        loss, out = case.loss, case.output
        if verdict == "a":
            if loss.tensor_op:
                return (f"{loss.name} takes logits, but its input is {out.describe()} already: pass "
                        f"the values before the {out.activation}")
            return (f"{loss.name} with from_logits=True on {out.describe()} treats its probabilities "
                    "as logits; set from_logits=False (or drop the output activation)")
        if loss.tensor_op:
            return (f"{loss.name} takes probabilities, but {out.describe()} gives logits: apply a "
                    "sigmoid first, or use a loss on logits")
        class_name = _CLASSES.get(_normalized(_short(loss.name)), "the loss")
        return (f"{loss.name} takes probabilities, but {out.describe()} gives logits; use "
                f"{class_name}(from_logits=True)")

    VALID = (
        # from_logits=True with a linear output: the recommended set-up.
        """
import keras
from keras import layers
model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10)])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
""",
        # sigmoid + binary_crossentropy; softmax + categorical_crossentropy.
        """
from tensorflow import keras
a = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
a.compile(optimizer="adam", loss="binary_crossentropy")
b = keras.Sequential([keras.layers.Dense(5, activation="softmax")])
b.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy())
""",
        # Multi-label: several sigmoid units with binary cross-entropy.
        """
import tensorflow as tf
inputs = tf.keras.Input(shape=(300,))
outputs = tf.keras.layers.Dense(20, activation="sigmoid")(inputs)
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=tf.keras.losses.BinaryCrossentropy())
""",
        # A regression loss on a linear output: no logits involved.
        """
import keras
model = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
""",
        # The output activation comes from a variable the linter cannot resolve.
        """
import keras
def build(final_activation):
    model = keras.Sequential([keras.layers.Dense(10, activation=final_activation)])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model
""",
        # A loaded model and a custom loss function: nothing to compare.
        """
import keras
base = keras.models.load_model("model.keras")
base.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
def my_loss(y_true, y_pred):
    return keras.losses.categorical_crossentropy(y_true, keras.activations.softmax(y_pred))
model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer="adam", loss=my_loss)
""",
        # A multi-output model with a loss list it cannot match to its outputs.
        """
import keras
inputs = keras.Input((8,))
heads = [keras.layers.Dense(1, activation="sigmoid")(inputs), keras.layers.Dense(4)(inputs)]
model = keras.Model(inputs, heads)
model.compile(optimizer="adam", loss=["binary_crossentropy", keras.losses.CategoricalCrossentropy(from_logits=True)])
""",
        # TF1: softmax_cross_entropy on the logits; the softmax only for prediction.
        """
import tensorflow as tf
logits = tf.layers.dense(h, 10)
probs = tf.nn.softmax(logits)
loss = tf.losses.softmax_cross_entropy(onehot_labels=y, logits=logits)
""",
        # A subclassed model with its own train_step decides what the loss sees.
        """
import keras
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.out = keras.layers.Dense(10)
    def call(self, x):
        return self.out(x)
    def train_step(self, data):
        x, y = data
        return self.compiled_loss(y, keras.activations.softmax(self(x)))
model = Net()
model.compile(optimizer="adam", loss="categorical_crossentropy")
""",
        # log_softmax outputs are valid logits.
        """
import tensorflow as tf
inputs = tf.keras.Input((16,))
outputs = tf.nn.log_softmax(tf.keras.layers.Dense(10)(inputs))
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True))
""",
    )
    INVALID = (
        Invalid(  # (a) Sequential list, loss object inline
            """
import keras
from keras import layers

model = keras.Sequential([
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
""",
            (9,),
            fixed="""
import keras
from keras import layers

model = keras.Sequential([
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=False),
              metrics=["accuracy"])
""",
        ),
        Invalid(  # (a) .add with an Activation layer, a loss object assigned first
            """
import tensorflow as tf

model = tf.keras.Sequential()
model.add(tf.keras.layers.Dense(1))
model.add(tf.keras.layers.Activation("sigmoid"))
loss_fn = tf.keras.losses.BinaryCrossentropy(from_logits=True)
model.compile(optimizer="adam", loss=loss_fn)
""",
            (8,),
            fixed="""
import tensorflow as tf

model = tf.keras.Sequential()
model.add(tf.keras.layers.Dense(1))
model.add(tf.keras.layers.Activation("sigmoid"))
loss_fn = tf.keras.losses.BinaryCrossentropy(from_logits=False)
model.compile(optimizer="adam", loss=loss_fn)
""",
        ),
        Invalid(  # (b) functional, a string loss becomes the loss object
            """
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(784,))
x = layers.Dense(256, activation="relu")(inputs)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
""",
            (9,),
            fixed="""
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(784,))
x = layers.Dense(256, activation="relu")(inputs)
outputs = layers.Dense(10)(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
""",
        ),
        Invalid(  # (b) a 1-unit linear discriminator (nested calls), a keras.losses function
            """
import tensorflow as tf

inputs = tf.keras.Input(shape=(28, 28, 1))
validity = tf.keras.layers.Dense(1)(tf.keras.layers.Flatten()(tf.keras.layers.Conv2D(64, 3, activation="relu")(inputs)))
discriminator = tf.keras.Model(inputs, validity)
discriminator.compile(optimizer="adam", loss=tf.keras.losses.binary_crossentropy)
""",
            (7,),
            fixed="""
import tensorflow as tf

inputs = tf.keras.Input(shape=(28, 28, 1))
validity = tf.keras.layers.Dense(1)(tf.keras.layers.Flatten()(tf.keras.layers.Conv2D(64, 3, activation="relu")(inputs)))
discriminator = tf.keras.Model(inputs, validity)
discriminator.compile(optimizer="adam", loss=tf.keras.losses.BinaryCrossentropy(from_logits=True))
""",
        ),
        Invalid(  # (b) a subclassed model; the loss object without from_logits
            """
import keras

class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(64, activation="relu")
        self.logits = keras.layers.Dense(10)

    def call(self, x):
        return self.logits(self.hidden(x))

model = Net()
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1))
""",
            (14,),
            fixed="""
import keras

class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(64, activation="relu")
        self.logits = keras.layers.Dense(10)

    def call(self, x):
        return self.logits(self.hidden(x))

model = Net()
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1, from_logits=True))
""",
        ),
        Invalid(  # (b) multi-output: the dict entry of the linear output, by layer name
            """
import keras
from keras import layers

inputs = keras.Input(shape=(32,))
x = layers.Dense(64, activation="relu")(inputs)
kind = layers.Dense(5, name="kind")(x)
price = layers.Dense(1, name="price")(x)
model = keras.Model(inputs, [kind, price])
model.compile(optimizer="adam", loss={"kind": "categorical_crossentropy", "price": "mse"})
""",
            (10,),
            fixed="""
import keras
from keras import layers

inputs = keras.Input(shape=(32,))
x = layers.Dense(64, activation="relu")(inputs)
kind = layers.Dense(5, name="kind")(x)
price = layers.Dense(1, name="price")(x)
model = keras.Model(inputs, [kind, price])
model.compile(optimizer="adam", loss={"kind": keras.losses.CategoricalCrossentropy(from_logits=True), "price": "mse"})
""",
        ),
        Invalid(  # (a) TF1: the logits op fed with softmax probabilities
            """
import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 784])
y = tf.placeholder(tf.float32, [None, 10])
h = tf.layers.dense(x, 256, activation=tf.nn.relu)
prediction = tf.layers.dense(h, 10, activation=tf.nn.softmax)
loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction))
""",
            (8,),
        ),
        Invalid(  # (a) a custom training loop: a keras loss function on a softmax model's output
            """
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.Dense(10, activation="softmax")])

@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True)
    return tape.gradient(loss, model.trainable_variables)
""",
            (9,),
            fixed="""
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.Dense(10, activation="softmax")])

@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=False)
    return tape.gradient(loss, model.trainable_variables)
""",
        ),
        Invalid(  # (b) a fully convolutional classifier: global pooling keeps the logits
            """
import keras
from keras import layers
model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu"),
    layers.Conv2D(10, 1),
    layers.GlobalAveragePooling2D(),
])
model.compile(optimizer="adam", loss="categorical_crossentropy")
""",
            (9,),
            fixed="""
import keras
from keras import layers
model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu"),
    layers.Conv2D(10, 1),
    layers.GlobalAveragePooling2D(),
])
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
""",
        ),
        Invalid(  # (b) a loss list in the outputs' order; an imported loss function becomes its class
            """
from tensorflow import keras
from tensorflow.keras.losses import sparse_categorical_crossentropy
inputs = keras.Input((64,))
digit = keras.layers.Dense(10)(inputs)
parity = keras.layers.Dense(1, activation="sigmoid")(inputs)
model = keras.Model(inputs, [digit, parity])
model.compile(optimizer="adam", loss=[sparse_categorical_crossentropy, "binary_crossentropy"])
""",
            (8,),
            fixed="""
from tensorflow import keras
from tensorflow.keras.losses import SparseCategoricalCrossentropy, sparse_categorical_crossentropy
inputs = keras.Input((64,))
digit = keras.layers.Dense(10)(inputs)
parity = keras.layers.Dense(1, activation="sigmoid")(inputs)
model = keras.Model(inputs, [digit, parity])
model.compile(optimizer="adam", loss=[SparseCategoricalCrossentropy(from_logits=True), "binary_crossentropy"])
""",
        ),
        Invalid(  # (a) one loss object shared with a model it suits: reported without a fix
            """
import keras
loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
probs = keras.Sequential([keras.layers.Dense(4, activation="softmax")])
logits = keras.Sequential([keras.layers.Dense(4)])
probs.compile(optimizer="adam", loss=loss_fn)
logits.compile(optimizer="adam", loss=loss_fn)
""",
            (6,),
        ),
        Invalid(  # (b) a string loss from a variable: reported, left to the user
            """
import keras
LOSS = "binary_crossentropy"
model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss=LOSS)
""",
            (5,),
        ),
    )


class LossOutputMismatch(Rule):
    """## What it does
    Checks for a classification loss that contradicts the output layer or the labels:

    - `binary_crossentropy` on a softmax output of more than two units;
    - `categorical_crossentropy` (or its sparse variant) on a 1-unit output, or on a sigmoid output;
    - `sparse_categorical_crossentropy` trained on labels that are visibly one-hot
      (`to_categorical`, `one_hot`).

    Reported at the compile call that carries the loss (TF1 and custom loops: at the loss call).
    A 2-unit softmax with `binary_crossentropy` is not flagged: on one-hot labels it computes the
    same loss as `categorical_crossentropy`. Multi-label outputs (several sigmoid units with
    binary cross-entropy) are correct and not flagged.

    ## Why is this bad?
    Binary cross-entropy on a softmax scores every class as an independent yes/no; with one-hot
    labels most of them are "no", so the loss and the `"accuracy"` metric (then binary accuracy)
    look excellent while the classifier is poor. Categorical cross-entropy over a single unit is
    constant (one class always has probability one), so nothing is learned; on sigmoid outputs it
    treats independent probabilities as a distribution. A sparse loss expects integer class ids,
    not one-hot rows.

    ## Example
    ```python
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    ```

    ## Use instead
    ```python
    model = keras.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    ```

    ## References
    - [Keras: probabilistic losses](https://keras.io/api/losses/probabilistic_losses/)
    - [Keras: to_categorical](https://keras.io/api/utils/python_utils/#tocategorical-function)
    """

    code = "KT203"
    name = "loss-output-mismatch"
    summary = "Classification loss contradicts the output layer or the labels"
    severity = Severity.ERROR

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        judged = [(case, loss_mismatch(case)) for case in cases(kfile)]
        for case, message, _ in _reports(judged):
            yield Finding(case.node, message, case.statement)

    VALID = (
        # Multi-label: independent sigmoid units with binary cross-entropy.
        """
import keras
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(6, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["binary_accuracy"])
""",
        # Two softmax units with binary cross-entropy: the same loss as categorical on one-hot labels.
        """
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="binary_crossentropy")
""",
        # Integer labels with a sparse loss; one-hot labels with a categorical loss.
        """
import keras
from keras.utils import to_categorical
model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, validation_split=0.1)
other = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
other.compile(optimizer="adam", loss="categorical_crossentropy")
other.fit(x_train, to_categorical(y_train, 10), validation_split=0.1)
""",
        # One-hot labels turned back into class ids.
        """
import numpy as np
import keras
y = keras.utils.to_categorical(labels)
model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x, np.argmax(y, axis=1), validation_split=0.1)
""",
        # The width is a parameter; the output layer is opaque.
        """
import keras
def build(n):
    model = keras.Sequential([keras.layers.Dense(n, activation="softmax")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
hub_model = keras.Sequential([hub_layer])
hub_model.compile(optimizer="adam", loss="categorical_crossentropy")
""",
        # The output layer depends on a flag the linter cannot resolve: the branches disagree.
        """
import keras
def build(n_classes, binary):
    model = keras.Sequential([keras.layers.Dense(32, activation="relu")])
    if binary:
        model.add(keras.layers.Dense(1, activation="sigmoid"))
    else:
        model.add(keras.layers.Dense(n_classes, activation="softmax"))
    model.compile(optimizer="adam", loss="binary_crossentropy" if binary else "categorical_crossentropy")
    return model
""",
        # Losses matched by output name in a multi-output model.
        """
import keras
inputs = keras.Input((16,))
cls = keras.layers.Dense(10, activation="softmax", name="cls")(inputs)
flag = keras.layers.Dense(1, activation="sigmoid", name="flag")(inputs)
model = keras.Model(inputs, [cls, flag])
model.compile(optimizer="adam", loss={"cls": "categorical_crossentropy", "flag": "binary_crossentropy"})
""",
    )
    INVALID = (
        Invalid(  # binary cross-entropy on a 10-way softmax
            """
from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    layers.Flatten(input_shape=(28, 28)),
    layers.Dense(128, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
""",
            (10,),
        ),
        Invalid(  # categorical cross-entropy on a 1-unit sigmoid (.add)
            """
from keras.models import Sequential
from keras.layers import Dense

model = Sequential()
model.add(Dense(16, activation="relu", input_dim=30))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
""",
            (8,),
        ),
        Invalid(  # categorical cross-entropy on several sigmoid units (functional, loss object)
            """
import keras
inputs = keras.Input(shape=(100,))
outputs = keras.layers.Dense(5, activation="sigmoid")(inputs)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy())
""",
            (6,),
        ),
        Invalid(  # one-hot labels with a sparse loss
            """
import tensorflow as tf
from tensorflow.keras.utils import to_categorical

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
y_train = to_categorical(y_train, 10)
model = tf.keras.Sequential([tf.keras.layers.Flatten(), tf.keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train / 255.0, y_train, epochs=5, validation_split=0.1)
""",
            (8,),
        ),
        Invalid(  # a subclassed model with a 1-unit output, sparse loss
            """
import keras

class Scorer(keras.Model):
    def __init__(self):
        super().__init__()
        self.out = keras.layers.Dense(1)

    def call(self, x):
        return self.out(x)

model = Scorer()
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
""",
            (13,),
        ),
        Invalid(  # TF1: softmax cross-entropy over a single logit
            """
import tensorflow as tf
logit = tf.layers.dense(h, 1)
loss = tf.losses.softmax_cross_entropy(onehot_labels=y, logits=logit)
""",
            (4,),
        ),
        Invalid(  # a multi-output model: the single loss applies to every output
            """
import keras
inputs = keras.Input((16,))
a = keras.layers.Dense(1, activation="sigmoid")(inputs)
b = keras.layers.Dense(4, activation="softmax")(inputs)
model = keras.Model(inputs, [a, b])
model.compile(optimizer="adam", loss="binary_crossentropy")
""",
            (7,),
        ),
    )


class BoundedRegressionOutput(Rule):
    """## What it does
    Checks for a regression loss (`mse`, `mae`, `huber`, `msle`, `log_cosh`, as strings, functions
    or loss objects) on an output that cannot reach the targets: a softmax output, or a sigmoid or
    tanh output trained on targets that are visibly outside its range (raw 0-255 pixel values from
    `load_data()` that were never scaled, e.g. an autoencoder's targets).

    Reported at the compile call that carries the loss (TF1 and custom loops: at the loss call).
    Sigmoid and tanh outputs are not flagged when the targets are scaled, or when the code does
    not show their range.

    ## Why is this bad?
    A softmax output is a probability distribution: its units sum to one, so it cannot fit
    independent real-valued targets, and for classification a regression loss on it learns slowly
    (cross-entropy is the loss made for it). A sigmoid output lives in (0, 1) and tanh in (-1, 1):
    targets outside that range are unreachable, the output saturates where gradients vanish, and
    the loss never gets near zero.

    ## Example
    ```python
    (x_train, _), _ = keras.datasets.mnist.load_data()
    autoencoder.add(layers.Dense(784, activation="sigmoid"))
    autoencoder.compile(optimizer="adam", loss="mse")
    autoencoder.fit(x_train, x_train, validation_split=0.1)
    ```

    ## Use instead
    ```python
    (x_train, _), _ = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / 255.0
    autoencoder.add(layers.Dense(784, activation="sigmoid"))
    autoencoder.compile(optimizer="adam", loss="mse")
    autoencoder.fit(x_train, x_train, validation_split=0.1)
    ```

    ## References
    - [Keras: regression losses](https://keras.io/api/losses/regression_losses/)
    """

    code = "KT204"
    name = "bounded-regression-output"
    summary = "Regression loss on an output that cannot reach the targets"

    def check(self, kfile: KerasFile) -> Iterator[Finding]:
        judged = [(case, bounded_regression(case)) for case in cases(kfile)]
        for case, message, _ in _reports(judged):
            yield Finding(case.node, message, case.statement)

    VALID = (
        # A linear regression head.
        """
import keras
model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
""",
        # A sigmoid output on scaled images (an autoencoder).
        """
import keras
(x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
autoencoder = keras.Sequential([keras.layers.Dense(32, activation="relu"), keras.layers.Dense(784, activation="sigmoid")])
autoencoder.compile(optimizer="adam", loss="mse")
autoencoder.fit(x_train, x_train, epochs=10, validation_split=0.1)
""",
        # A sigmoid output whose targets' range the code does not show.
        """
import keras
model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())
model.fit(x, y, validation_split=0.1)
""",
        # Cross-entropy on a softmax.
        """
import keras
model = keras.Sequential([keras.layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy")
""",
        # A multi-output model: mse only on its linear output.
        """
import keras
inputs = keras.Input((16,))
cls = keras.layers.Dense(10, activation="softmax", name="cls")(inputs)
box = keras.layers.Dense(4, name="box")(inputs)
model = keras.Model(inputs, [cls, box])
model.compile(optimizer="adam", loss=["categorical_crossentropy", "mse"])
""",
    )
    INVALID = (
        Invalid(  # mse on a softmax classifier (.add)
            """
from keras.models import Sequential
from keras.layers import Dense

model = Sequential()
model.add(Dense(64, activation="relu", input_dim=4))
model.add(Dense(3, activation="softmax"))
model.compile(loss="mean_squared_error", optimizer="sgd", metrics=["accuracy"])
""",
            (8,),
        ),
        Invalid(  # an autoencoder with a sigmoid output trained on raw pixels
            """
import tensorflow as tf
from tensorflow.keras import layers

(x_train, _), (x_test, _) = tf.keras.datasets.fashion_mnist.load_data()
x_train = x_train.reshape(-1, 784)
inputs = tf.keras.Input(shape=(784,))
code = layers.Dense(32, activation="relu")(inputs)
decoded = layers.Dense(784, activation="sigmoid")(code)
autoencoder = tf.keras.Model(inputs, decoded)
autoencoder.compile(optimizer="adam", loss=tf.keras.losses.MeanSquaredError())
autoencoder.fit(x_train, x_train, epochs=20, validation_split=0.1)
""",
            (11,),
        ),
        Invalid(  # tanh output on raw pixels (subclassed)
            """
import keras
(x_train, _), _ = keras.datasets.cifar10.load_data()

class Denoiser(keras.Model):
    def __init__(self):
        super().__init__()
        self.encode = keras.layers.Conv2D(32, 3, padding="same", activation="relu")
        self.decode = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")

    def call(self, x):
        return self.decode(self.encode(x))

model = Denoiser()
model.compile(optimizer="adam", loss="mae")
model.fit(x_train, x_train, validation_split=0.1)
""",
            (15,),
        ),
        Invalid(  # a keras.losses function on a per-step softmax (TimeDistributed)
            """
import tensorflow as tf
inputs = tf.keras.Input((20, 8))
x = tf.keras.layers.LSTM(32, return_sequences=True)(inputs)
outputs = tf.keras.layers.TimeDistributed(tf.keras.layers.Dense(5, activation="softmax"))(x)
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=tf.keras.losses.mean_absolute_error)
""",
            (7,),
        ),
        Invalid(  # TF1: mean squared error on softmax probabilities
            """
import tensorflow as tf
probs = tf.layers.dense(h, 10, activation=tf.nn.softmax)
loss = tf.losses.mean_squared_error(labels=y, predictions=probs)
""",
            (4,),
        ),
    )
