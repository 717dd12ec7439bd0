"""The Keras IR's data: abstract values the extractor computes, and what a file does with them.

Values are deliberately coarse. Anything the extractor cannot tell is ``UNKNOWN`` (or a node of
kind ``opaque``), and rules stay silent on it.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, Optional

import libcst as cst

from kerastips.ir.names import (
    ACTIVATION_FUNCTION_NAMESPACES,
    ACTIVATION_FUNCTIONS,
    ACTIVATION_LAYERS,
    LINEAR_WITH_ACTIVATION,
)

# Data origins.
TRAIN, VALIDATION, TEST, UNKNOWN_ORIGIN = "train", "validation", "test", "unknown"


class Value:
    """Base of every abstract value."""


class _Unknown(Value):
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(eq=False)
class Const(Value):
    """A literal Python value known statically (numbers, strings, None, tuples of those).

    ``soft``: only a parameter's default in a function analysed without a caller; good for
    constant propagation, not for deciding which branch runs."""

    value: Any
    soft: bool = False


@dataclass(eq=False)
class Ref(Value):
    """A reference to a module, class or function by its canonical dotted name."""

    name: str


@dataclass(eq=False)
class Seq(Value):
    """A list or tuple. ``repeated``: built by a comprehension, items stand for any length."""

    items: list
    repeated: bool = False


@dataclass(eq=False)
class Mapping_(Value):
    """A dict: its values (scores collected per configuration), and those under literal keys."""

    items: list
    keys: dict = field(default_factory=dict)


_ROOTS = itertools.count(1)


def new_root() -> frozenset:
    """A fresh lineage: data that does not come from other data the IR has seen."""
    return frozenset({next(_ROOTS)})


@dataclass(eq=False)
class Data(Value):
    """An array, dataset or generator: which part of a split it comes from, and what was done
    to it on the way (one-hot encoding, scaling)."""

    origin: str = UNKNOWN_ORIGIN
    kind: str = "unknown"  # "array" | "dataset" | "generator" | "unknown"
    batch: Optional[int] = None  # a tf.data .batch(n) size when literal
    # The split is known from the code's structure (load_data's second pair, a "test" directory,
    # a K-fold index), so a variable name does not override it; a slice of it loses that.
    strong: bool = False
    onehot: bool = False  # labels through to_categorical / one_hot
    scaled: Optional[bool] = None  # False: raw load_data images; True: divided/normalized
    image: bool = False  # pixel data from an image dataset's load_data()
    roots: frozenset = field(default_factory=new_root)  # the sources it is computed from

    def derived(self, kind: str | None = None, batch: int | None = None, **changes) -> "Data":
        """The same data after a shape- and value-preserving step (reshape, batch, slice...)."""
        changes.setdefault("kind", kind or self.kind)
        changes.setdefault("batch", batch if batch is not None else self.batch)
        return dataclasses.replace(self, **changes)


def combine(parts: list, kind: str | None = None) -> Data:
    """Data computed from several (concatenation, arithmetic, a dataset of (x, y)): test data
    anywhere makes it test data, and its lineage is all of theirs."""
    origins = {d.origin for d in parts}
    origin = TEST if TEST in origins else (origins.pop() if len(origins) == 1 else UNKNOWN_ORIGIN)
    scaled = {d.scaled for d in parts}
    return Data(
        origin,
        kind or parts[0].kind,
        strong=all(d.strong for d in parts),
        onehot=all(d.onehot for d in parts),
        scaled=scaled.pop() if len(scaled) == 1 else None,
        image=all(d.image for d in parts),
        roots=frozenset().union(*(d.roots for d in parts)),
    )


@dataclass(eq=False)
class FoldIndex(Value):
    """Row indices of one side of a cross-validation split (``for tr, va in kf.split(X)``)."""

    origin: str


@dataclass(eq=False)
class Args:
    """The evaluated arguments of a call, with their CST nodes."""

    positional: list  # [(Value, cst.BaseExpression)]
    keywords: dict  # name -> (Value, cst.BaseExpression)
    star: bool = False  # *args or **kwargs present: anything may be passed
    keras1: bool = False  # a Keras 1 layer call (renamed keywords, positional arguments of old)

    def get(self, keyword: str, position: int | None = None):
        """(value, node) of an argument by keyword or position, else None."""
        if keyword in self.keywords:
            return self.keywords[keyword]
        if position is not None and position < len(self.positional):
            return self.positional[position]
        return None

    def value(self, keyword: str, position: int | None = None) -> Value | None:
        got = self.get(keyword, position)
        return got[0] if got else None

    def renamed(self, aliases: dict, **changes) -> "Args":
        """The arguments with old keyword spellings under their current names (Keras 1's
        `nb_epoch=` as `epochs=`), unless the current name is given as well."""
        keywords = {aliases[k] if k in aliases and aliases[k] not in self.keywords else k: v
                    for k, v in self.keywords.items()}
        return dataclasses.replace(self, keywords=keywords, **changes)


@dataclass(frozen=True)
class Use:
    """How a layer enters a model, for fixes that move it: an element of a `Sequential([...])`
    list (``node`` is the cst.Element, ``container`` the list), a `model.add(layer)` call, or a
    call applying it to a tensor (``layer(x)``, ``tf.nn.relu(x)``)."""

    kind: str  # "element" | "add" | "apply"
    node: cst.CSTNode
    statement: Optional[cst.CSTNode]
    container: Optional[cst.CSTNode] = None


@dataclass(eq=False)
class LayerNode(Value):
    """A layer object (or a tensor op) and its place in the layer graph.

    ``kind`` is the canonical callee (``keras.layers.Dense``), ``op:<name>`` for an activation
    function applied to a tensor, ``input`` for model inputs, ``opaque`` for anything unknown.
    """

    kind: str
    call: Optional[cst.CSTNode]
    statement: Optional[cst.CSTNode]
    args: Args
    cls: Optional["ClassInfo"] = None
    uses: list = field(default_factory=list)
    in_test: bool = False  # made inside a unit test (exercising the API, not building a model)

    @property
    def short(self) -> str:
        return self.kind.rsplit(".", 1)[-1].replace("op:", "")

    @property
    def is_keras_layer(self) -> bool:
        return self.kind.startswith("keras.layers.")

    def activation(self):
        """The non-linear activation this node applies: a name like "relu", None when it applies
        none (linear), or UNKNOWN when the code does not say."""
        if self.kind.startswith("op:"):
            return self.short
        if not self.is_keras_layer:
            return UNKNOWN
        if self.short == "Activation":
            return activation_name(self.args.value("activation", 0))
        if self.short in ACTIVATION_LAYERS:
            return {"ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu", "ELU": "elu",
                    "Softmax": "softmax", "ThresholdedReLU": "thresholded_relu"}[self.short]
        if self.short in LINEAR_WITH_ACTIVATION:
            given = self.args.value("activation", 1 if self.short == "Dense" else None)
            return None if given is None else activation_name(given)
        return None if self.short in _LINEAR_LAYERS else UNKNOWN


@dataclass(eq=False)
class Tensor(Value):
    """A symbolic tensor: the set of graph nodes that may have produced it."""

    producers: frozenset


@dataclass(eq=False)
class ModelValue(Value):
    """A Keras model. ``nodes``: its layers; ``tail``: the nodes whose output is the model's."""

    kind: str  # "sequential" | "functional" | "subclass" | "loaded" | "tuner" | "unknown"
    node: Optional[cst.CSTNode]
    nodes: list = field(default_factory=list)
    tail: frozenset = frozenset()
    cls: Optional["ClassInfo"] = None
    builder: Optional[cst.CSTNode] = None  # the function that built it, for "same model" questions
    component: bool = False  # part of another model too (a GAN's discriminator, a nested Sequential)

    @property
    def key(self) -> object:
        return self.builder or self.node or self


@dataclass(eq=False)
class OptimizerValue(Value):
    kind: str  # canonical optimizer class
    call: Optional[cst.CSTNode]  # None for a string optimizer ("adam")
    statement: Optional[cst.CSTNode]
    args: Args
    in_test: bool = False  # made inside a unit test

    @property
    def short(self) -> str:
        return self.kind.rsplit(".", 1)[-1]


@dataclass(eq=False)
class Hyperparameter(Value):
    """A number keras-tuner chooses (`hp.Float("lr", 1e-4, 1e-2)`): a constant in each trial,
    which one is not known here."""

    kind: str  # "Float" | "Int" | "Choice"


@dataclass(eq=False)
class ScheduleValue(Value):
    """A learning-rate schedule; ``warmup`` True/False, or None when it cannot be told."""

    kind: str
    warmup: Optional[bool]


@dataclass(eq=False)
class CallbackValue(Value):
    kind: str  # canonical callback class, or "user:<Class>"
    args: Args
    touches_lr: bool = False  # a scheduler or a user callback that sets the learning rate

    @property
    def keeps_best(self) -> bool:
        """A ModelCheckpoint that saves only the best epoch (`save_best_only=True`)."""
        best = self.args.value("save_best_only", 3)
        return self.kind.endswith(".ModelCheckpoint") and isinstance(best, Const) and best.value is True


@dataclass(eq=False)
class FunctionValue(Value):
    node: cst.FunctionDef | cst.Lambda
    scope: Any = None  # the defining scope (closures)
    owner: Optional["ClassInfo"] = None  # the class a method is defined in (for super())


@dataclass(eq=False)
class ClassInfo(Value):
    """A class defined in the file, with what its body shows."""

    node: cst.ClassDef
    bases: tuple  # canonical names of the bases (a base class of the file adds its own)
    methods: dict  # own and inherited
    parents: tuple = ()  # base classes defined in the file
    outputs: frozenset = frozenset()  # what call() returns, for a Keras Model/Layer subclass
    nodes: list = field(default_factory=list)  # layers a Keras Layer/Model subclass creates
    mentions_warmup: bool = False
    touches_lr: bool = False

    def derives(self, *canonical_bases: str) -> bool:
        return any(base in canonical_bases for base in self.bases)


@dataclass(eq=False)
class Instance(Value):
    """An object of a class defined in the file (attributes tracked, e.g. ``self.dense``)."""

    cls: Optional[ClassInfo]
    attrs: dict = field(default_factory=dict)


@dataclass(eq=False)
class Score(Value):
    """The result of evaluate()/predict(), or anything computed from it."""

    source: "EvaluateCall"


# ---- what the file does ------------------------------------------------------------------


@dataclass(eq=False)
class Context:
    """Where an event happened: execution order, the loops around it (callers' included)."""

    order: int
    loops: tuple
    statement: Optional[cst.CSTNode]
    in_test: bool = False  # inside a unit test: exercising the API, not a training run
    in_callback: bool = False  # inside a Keras Callback subclass: runs during training


@dataclass(eq=False)
class CompileCall:
    node: cst.Call
    model: ModelValue
    args: Args
    context: Context

    @property
    def optimizer(self) -> Value | None:
        return self.args.value("optimizer", 0)


@dataclass(eq=False)
class FitCall:
    node: cst.Call
    model: Optional[ModelValue]  # None for a keras-tuner search
    args: Args
    context: Context
    method: str  # "fit" | "fit_generator" | "search"

    @property
    def x(self):
        return self.args.get("x", 0) or self.args.get("generator", 0)

    @property
    def validation_data(self):
        got = self.args.get("validation_data", None if self.method == "search" else
                            (5 if self.method == "fit_generator" else 7))
        if got is None or (isinstance(got[0], Const) and got[0].value is None):
            return None
        return got

    @property
    def validation_split(self):
        got = self.args.get("validation_split", None if self.method != "fit" else 6)
        if got is None or (isinstance(got[0], Const) and got[0].value in (0, 0.0, None)):
            return None
        return got

    @property
    def validated(self) -> bool:
        return self.validation_data is not None or self.validation_split is not None


@dataclass(eq=False)
class EvaluateCall:
    node: cst.Call
    model: ModelValue
    args: Args
    context: Context
    method: str  # "evaluate" | "predict" | ...
    selected: bool = False  # its score is compared or ranked to pick a model

    @property
    def x(self):
        return self.args.get("x", 0)


@dataclass(eq=False)
class PreprocessorValue(Value):
    """A scaler, normalizer, tokenizer or image generator made from a known class (sklearn
    preprocessing, keras Tokenizer, ImageDataGenerator; keras Normalization/TextVectorization
    layers are LayerNodes)."""

    kind: str  # canonical class name
    args: Optional[Args] = None

    @property
    def short(self) -> str:
        return self.kind.rsplit(".", 1)[-1]

    @property
    def rescales(self) -> bool:
        """An ImageDataGenerator that changes pixel values (rescale, normalization, a function)."""
        return any(self.args.value(key) is not None for key in (
            "rescale", "featurewise_center", "samplewise_center", "featurewise_std_normalization",
            "samplewise_std_normalization", "zca_whitening", "preprocessing_function")) if self.args else False


@dataclass(eq=False)
class LossValue(Value):
    """A Keras loss object (`CategoricalCrossentropy(from_logits=True)`)."""

    kind: str  # canonical class name
    args: Args
    call: cst.Call


@dataclass(eq=False)
class Preprocessing:
    """A preprocessor fitted on data: `scaler.fit(X)`, `layer.adapt(X)`, `fit_on_texts(X)`."""

    node: cst.Call
    method: str
    data: Data
    context: Context
    preprocessor: Value  # the PreprocessorValue or LayerNode fitted (the same object each time)

    @property
    def kind(self) -> str:
        """The preprocessor's class: "StandardScaler", "Normalization", "Tokenizer"."""
        return getattr(self.preprocessor, "short", "")


@dataclass(eq=False)
class Split:
    """Data divided into parts: train_test_split(X, ...), kfold.split(X)."""

    node: cst.Call
    data: list  # the Data split
    context: Context
    name: str = "train_test_split()"  # how a message names it: "KFold.split()", "slicing"


@dataclass(eq=False)
class LossCall:
    """A loss computed on tensors (TF1 `tf.losses.*`, `tf.nn.*_cross_entropy_with_logits`, a
    keras loss function in a custom loop)."""

    node: cst.Call
    kind: str  # canonical function name
    args: Args
    context: Context


@dataclass(eq=False)
class KerasFile:
    """Everything rules may ask about one module."""

    module: cst.Module
    nodes: list = field(default_factory=list)  # every LayerNode created
    preds: dict = field(default_factory=dict)  # LayerNode -> set of LayerNode feeding it
    models: list = field(default_factory=list)
    compiles: list = field(default_factory=list)
    fits: list = field(default_factory=list)
    evaluates: list = field(default_factory=list)
    optimizers: list = field(default_factory=list)  # every optimizer object created
    preprocessings: list = field(default_factory=list)
    splits: list = field(default_factory=list)
    losses: list = field(default_factory=list)  # LossCall: losses computed on tensors
    imports: dict = field(default_factory=dict)  # local name -> imported dotted name
    siblings: dict = field(default_factory=dict)  # id(statement) -> (its block, its index)
    _successors: Optional[dict] = None
    _instances: Optional[dict] = None
    _memo: dict = field(default_factory=dict)
    # The extraction's scopes and classes' methods (anything with clear()): functions refer back
    # to the scope that defines them, methods to their class.
    _namespaces: list = field(default_factory=list)

    def memo(self, key: str, compute):
        """A derived analysis of this file (shapes...), computed once and dropped with the file."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def release(self) -> None:
        """Break the IR's reference cycles once the rules are done: the derived analyses refer
        back to this file, functions to their scopes, methods to their classes. Those cycles kept
        the IR, and the syntax tree it points into, alive until a garbage collection had walked
        it all (about 10% of a lint of Keras' sources); without them it is freed at once."""
        self._memo.clear()
        for namespace in self._namespaces:
            namespace.clear()

    @property
    def output_nodes(self) -> frozenset:
        """ids of the nodes whose output leaves the layer graph: models' outputs, and the tensors
        a loss is computed on (TF1 graphs have no model object)."""
        def compute() -> frozenset:
            found = {id(node) for model in self.models for node in model.tail}
            for loss in self.losses:
                for value, _ in loss.args.positional + list(loss.args.keywords.values()):
                    for item in ([value] if isinstance(value, Tensor) else getattr(value, "items", [])):
                        if isinstance(item, Tensor):
                            found |= {id(p) for p in item.producers}
            return frozenset(found)
        return self.memo("output_nodes", compute)

    def inputs_of(self, node: LayerNode) -> set:
        return self.preds.get(node, set())

    def outputs_of(self, node: LayerNode) -> set:
        if self._successors is None:
            self._successors = {}
            for target, sources in self.preds.items():
                for source in sources:
                    self._successors.setdefault(source, set()).add(target)
        return self._successors.get(node, set())

    def instances(self, node: LayerNode) -> list:
        """Every node made by the same line of code (a helper's layer, once per call of the helper)."""
        if self._instances is None:
            self._instances = {}
            for each in self.nodes:
                self._instances.setdefault(id(each.call), []).append(each)
        return self._instances.get(id(node.call), [node])

    def adjacent(self, first: cst.CSTNode, second: cst.CSTNode) -> bool:
        """Whether `second` is the statement right after `first` in the same block."""
        a, b = self.siblings.get(id(first)), self.siblings.get(id(second))
        return a is not None and b is not None and a[0] is b[0] and b[1] == a[1] + 1

    def compiles_of(self, model: ModelValue) -> tuple:
        return self._by_model("compiles").get(id(model), ())

    def fits_of(self, model: ModelValue) -> tuple:
        return self._by_model("fits").get(id(model), ())

    def evaluates_of(self, model: ModelValue) -> tuple:
        return self._by_model("evaluates").get(id(model), ())

    def _by_model(self, calls: str) -> dict:
        """id(model) -> its compile (fit, evaluate) calls in file order, grouped once for all rules."""
        def compute() -> dict:
            grouped: dict = {}
            for call in getattr(self, calls):
                grouped.setdefault(id(call.model), []).append(call)
            return {key: tuple(found) for key, found in grouped.items()}
        return self.memo(calls + " by model", compute)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)


# Layers that never apply a non-linearity (normalization, regularization, reshaping).
_LINEAR_LAYERS = frozenset(
    {"BatchNormalization", "SyncBatchNormalization", "LayerNormalization", "GroupNormalization",
     "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
     "GaussianDropout", "AlphaDropout", "Flatten", "Reshape", "Add", "Concatenate", "Average",
     "Subtract", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Rescaling", "Normalization"}
)


def activation_name(value: Value | None):
    """What an `activation=` value means: a non-linear activation's name, None for linear,
    or UNKNOWN (a user function, a variable the IR cannot resolve)."""
    if isinstance(value, Const):
        if value.value is None:
            return None
        if isinstance(value.value, str):
            name = value.value.lower()
            return None if name == "linear" else name
        return UNKNOWN
    if isinstance(value, Ref):
        namespace, _, short = value.name.rpartition(".")
        if namespace == "keras.activations" or (
            namespace in ACTIVATION_FUNCTION_NAMESPACES and short in ACTIVATION_FUNCTIONS
        ):
            return None if short == "linear" else short
        return UNKNOWN
    if isinstance(value, LayerNode):
        return value.activation()
    return UNKNOWN


def data_origin(value: Value | None) -> str:
    """The split a value comes from; tuples (x, y) count as test when any part is test."""
    if isinstance(value, Data):
        return value.origin
    if isinstance(value, Seq) and value.items:
        origins = {data_origin(item) for item in value.items}
        for origin in (TEST, VALIDATION, TRAIN):
            if origin in origins:
                return origin
    return UNKNOWN_ORIGIN


def is_layer_kind(node: LayerNode, group: frozenset) -> bool:
    return node.is_keras_layer and node.short in group



def model_nodes(model: ModelValue) -> list:
    """Every layer of a model, including those inside custom layer classes of the file."""
    found: list = []
    stack, seen = list(model.nodes) + (list(model.cls.nodes) if model.cls else []), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        if node.cls is not None:
            stack.extend(node.cls.nodes)
    return found
