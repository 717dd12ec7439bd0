"""extract(): one abstract-interpretation pass over a module that builds its Keras IR.

Statements run in order; calls to functions of the same file are inlined (bounded), so helper
blocks, `.add` loops and builder functions connect to their callers. Functions and classes that are
never called are then analysed on their own. Whatever cannot be told becomes UNKNOWN.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import re
from typing import Iterable

import libcst as cst

from kerastips.ir import names
from kerastips.ir.model import (
    TEST,
    TRAIN,
    UNKNOWN,
    UNKNOWN_ORIGIN,
    VALIDATION,
    Args,
    CallbackValue,
    ClassInfo,
    CompileCall,
    Const,
    Context,
    Data,
    EvaluateCall,
    FitCall,
    FoldIndex,
    FunctionValue,
    Hyperparameter,
    Instance,
    KerasFile,
    LayerNode,
    LossCall,
    LossValue,
    Mapping_,
    ModelValue,
    OptimizerValue,
    Preprocessing,
    PreprocessorValue,
    Ref,
    ScheduleValue,
    Score,
    Seq,
    Split,
    Tensor,
    Use,
    Value,
    combine,
    model_nodes,
)

MAX_INLINE_DEPTH = 6
INLINE_BUDGET = 20_000  # statements executed inside inlined calls, per file

_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*")
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_ORIGIN_WORDS = (
    (TEST, re.compile(r"[xy]?(?:test|tst|testing)(?:set|data|ds)?s?")),
    (VALIDATION, re.compile(r"[xy]?(?:val|valid|validation|dev|va)(?:set|data|ds)?s?")),
    (TRAIN, re.compile(r"[xy]?(?:train|training|trn|tr)(?:set|data|ds)?s?")),
)
_DATA_METHODS = frozenset(
    {"reshape", "astype", "batch", "unbatch", "padded_batch", "shuffle", "map", "prefetch",
     "cache", "repeat", "take", "skip", "filter", "copy", "flatten", "squeeze", "transpose",
     "to_numpy", "with_options", "apply", "ravel", "numpy", "as_numpy_iterator", "rebatch",
     "dropna", "fillna", "drop", "iloc", "loc", "values"}
)
_SELECTORS = frozenset({"max", "min", "sorted", "argmax", "argmin", "nlargest", "nsmallest",
                        "idxmax", "idxmin", "sort", "sort_values"})
_SINKS = frozenset({"print", "len", "str", "repr", "format", "isinstance", "type", "id"})
_SPLITTERS = frozenset({"KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold",
                        "RepeatedKFold", "RepeatedStratifiedKFold", "ShuffleSplit",
                        "StratifiedShuffleSplit", "TimeSeriesSplit", "LeaveOneOut"})
_BUILTINS = frozenset({"dict", "max", "min", "sorted", "range", "enumerate", "zip", "list", "tuple",
                       "reversed", "iter", "print", "len", "str", "repr", "format", "isinstance",
                       "type", "id", "sum", "round", "float", "int", "abs"})
_METADATA = frozenset({"shape", "dtype", "ndim", "size", "columns", "index", "dtypes", "element_spec",
                       "cardinality", "class_names", "n_samples"})
_IMAGE_DATASETS = frozenset({"mnist", "fashion_mnist", "cifar10", "cifar100"})
# Functions that leave pixel values as they are, or that scale them.
_VALUE_PRESERVING = frozenset({"expand_dims", "reshape", "array", "asarray", "convert_to_tensor",
                               "concatenate", "vstack", "hstack", "stack", "squeeze", "transpose",
                               "copy", "cast", "astype", "to_categorical"})
_SCALING = frozenset({"preprocess_input", "convert_image_dtype", "normalize", "per_image_standardization",
                      "scale", "minmax_scale", "robust_scale", "standardize"})
# Calls that read a data set from somewhere: fresh data of unknown split.
_DATA_SOURCES = ("pandas.read_", "numpy.load", "numpy.genfromtxt", "numpy.loadtxt", "sklearn.datasets.",
                 "pandas.DataFrame", "numpy.array", "numpy.asarray")  # the last: data built in the file
_PREPROCESSORS = ("sklearn.preprocessing.", "sklearn.decomposition.", "sklearn.impute.",
                  "sklearn.feature_extraction.", "keras.preprocessing.text.Tokenizer")
_ADAPTABLE = frozenset({"Normalization", "TextVectorization", "StringLookup", "IntegerLookup",
                        "Discretization"})
# TF1-era functional layers: tf.layers.dense(inputs, units, activation=...) and friends.
_TF1_LAYER_MODULES = ("tensorflow.layers", "tensorflow.compat.v1.layers")
_TF1_LAYERS = {
    "dense": "Dense", "conv1d": "Conv1D", "conv2d": "Conv2D", "conv3d": "Conv3D",
    "conv2d_transpose": "Conv2DTranspose", "separable_conv2d": "SeparableConv2D",
    "batch_normalization": "BatchNormalization", "dropout": "Dropout", "flatten": "Flatten",
    "max_pooling1d": "MaxPooling1D", "max_pooling2d": "MaxPooling2D", "max_pooling3d": "MaxPooling3D",
    "average_pooling1d": "AveragePooling1D", "average_pooling2d": "AveragePooling2D",
}
_LOSS_MODULES = ("tensorflow.losses", "tensorflow.compat.v1.losses", "keras.losses", "keras.backend")
_DATA_MODULES = ("numpy.", "tensorflow.", "keras.", "pandas.", "scipy.", "sklearn.preprocessing.",
                 "jax.numpy.", "torch.")
_LOADED_MODELS = frozenset({"keras.models.load_model", "keras.saving.load_model",
                            "keras.models.clone_model", "keras.models.model_from_json"})
_WARMUP = re.compile(r"warm[\s_-]?up", re.I)


@functools.lru_cache(maxsize=8192)
def name_origin(name: str) -> str | None:
    """The split a variable name marks: `x_test`, `testX`, `val_ds`, `train_images`..."""
    found = set()
    for token in _TOKEN.findall(name):
        token = token.lower()
        for origin, pattern in _ORIGIN_WORDS:
            if pattern.fullmatch(token):
                found.add(origin)
    return found.pop() if len(found) == 1 else None


def path_origin(path: str) -> str | None:
    """The split a file or directory path names (`data/test`, `test.csv`)."""
    parts = re.split(r"[\\/]", path.lower())
    for part in reversed(parts):
        stem = part.split(".", 1)[0]
        origin = name_origin(stem) if stem else None
        if origin:
            return origin
    return None


def merge(a: Value, b: Value) -> Value:
    """The value of a variable after two paths join."""
    if a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return Tensor(a.producers | b.producers)
    if isinstance(a, Const) and isinstance(b, Const) and type(a.value) is type(b.value):
        return a if a.value == b.value else UNKNOWN
    if isinstance(a, Data) and isinstance(b, Data):
        return dataclasses.replace(combine([a, b], a.kind if a.kind == b.kind else "unknown"),
                                   origin=a.origin if a.origin == b.origin else UNKNOWN_ORIGIN)
    return UNKNOWN


def contains(value: Value, kind: type, depth: int = 3) -> list:
    """Values of `kind` inside value (through lists, tuples and dicts)."""
    if isinstance(value, kind):
        return [value]
    if depth and isinstance(value, (Seq, Mapping_)):
        return [found for item in value.items for found in contains(item, kind, depth - 1)]
    return []


class Splitter(Value):
    """A scikit-learn cross-validation splitter (KFold...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


class Scope:
    __slots__ = ("vars", "parent")

    def __init__(self, parent: "Scope | None" = None) -> None:
        self.vars: dict[str, Value] = {}
        self.parent = parent

    def clear(self) -> None:
        self.vars.clear()

    def lookup(self, name: str) -> Value | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return None


class Extractor:
    def __init__(self, module: cst.Module, source: str) -> None:
        self.module = module
        self.source = source
        self.kfile = KerasFile(module)
        self.imports: dict[str, str] = {}
        self.star_imports: list[str] = []
        self.globals = self.scope()
        self.loops: list[cst.CSTNode] = []
        self.statement: cst.CSTNode | None = None
        self.order = 0
        self.call_stack: list[cst.CSTNode] = []
        self.frames: list[tuple[FunctionValue, Value | None]] = []  # (function, its self)
        self.returns: list[Value] | None = None
        self.yielded = False  # a yield ran in the function being inlined: calling it makes a generator
        self.analysed: set[cst.CSTNode] = set()
        self.pending: list[Value] = []
        self.budget = INLINE_BUDGET
        self.sequentials: list[ModelValue] = []
        self._bare_cache: dict[str, str | None] = {}
        self._identifiers: collections.Counter | None = None
        self.in_test = 0  # inside a unit test (a test* function or a TestCase class)
        self.in_callback = 0  # inside the methods of a keras.callbacks.Callback subclass

    def scope(self, parent: Scope | None = None) -> Scope:
        scope = Scope(parent)
        self.kfile._namespaces.append(scope)  # emptied by KerasFile.release()
        return scope

    # ---- driver ------------------------------------------------------------------------------

    def run(self) -> KerasFile:
        self.kfile.imports = self.imports
        self.in_test = int(_is_test_module(self.module))  # a test module's code builds fixtures
        self.exec_block(self.module.body, self.globals)
        # What no call reached: analysed on its own, in order, callers (unreferenced) before
        # callees. Whether an item is referenced never changes, so two queues keep this linear.
        queues: tuple[collections.deque, collections.deque] = (collections.deque(), collections.deque())
        queued = 0
        while True:
            for item in self.pending[queued:]:  # analysing an item may define more
                queues[self.referenced(item)].append(item)
            queued = len(self.pending)
            if not (queues[0] or queues[1]):
                break
            item = (queues[0] or queues[1]).popleft()
            if isinstance(item, FunctionValue) and item.node not in self.analysed:
                self.inline(item, Args([], {}), standalone=True)
            elif isinstance(item, ClassInfo):
                self.analyse_plain_class(item)
        return self.kfile

    def referenced(self, item: Value) -> bool:
        """Whether a function is used elsewhere in the file (then its callers should reach it)."""
        if not isinstance(item, FunctionValue) or not isinstance(item.node, cst.FunctionDef):
            return False
        if self._identifiers is None:
            self._identifiers = collections.Counter(_IDENTIFIER.findall(self.source))
        return self._identifiers[item.node.name.value] > 1

    def context(self) -> Context:
        self.order += 1
        return Context(self.order, tuple(self.loops), self.statement, self.in_test > 0,
                       self.in_callback > 0)

    # ---- statements --------------------------------------------------------------------------

    def exec_block(self, body: Iterable[cst.CSTNode], scope: Scope) -> None:
        for index, stmt in enumerate(body):
            self.kfile.siblings[id(stmt)] = (body, index)
            if self.call_stack:
                self.budget -= 1
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: cst.CSTNode, scope: Scope) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.statement = stmt
                self.exec_small(small, scope)
            return
        self.statement = stmt
        if isinstance(stmt, cst.FunctionDef):
            fn = FunctionValue(stmt, scope=scope)
            scope.vars[stmt.name.value] = fn
            self.pending.append(fn)
        elif isinstance(stmt, cst.ClassDef):
            scope.vars[stmt.name.value] = self.define_class(stmt, scope)
        elif isinstance(stmt, cst.If):
            branches, has_else, clause = [], False, stmt
            while clause is not None:
                if isinstance(clause, cst.If):
                    test = self.eval(clause.test, scope)
                    if isinstance(test, Const) and not test.soft:  # a known condition: one way
                        if _truthy(test.value):
                            branches.append(clause.body.body)
                            has_else = True
                            break
                    else:
                        branches.append(clause.body.body)
                    clause = clause.orelse
                else:
                    branches.append(clause.body.body)
                    has_else, clause = True, None
            if len(branches) == 1 and has_else:
                self.exec_block(branches[0], scope)
            elif branches:
                self.exec_branches(branches, scope, has_else)
        elif isinstance(stmt, (cst.For, cst.While)):
            self.exec_loop(stmt, scope)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                value = self.eval(item.item, scope)
                if item.asname is not None:
                    self.bind(item.asname.name, value, scope)
            self.exec_block(stmt.body.body, scope)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self.exec_block(stmt.body.body, scope)
            if stmt.handlers:
                self.exec_branches([h.body.body for h in stmt.handlers], scope, has_else=False)
            if stmt.orelse is not None:
                self.exec_block(stmt.orelse.body.body, scope)
            if stmt.finalbody is not None:
                self.exec_block(stmt.finalbody.body.body, scope)
        elif isinstance(stmt, cst.Match):
            self.eval(stmt.subject, scope)
            self.exec_branches([case.body.body for case in stmt.cases], scope, has_else=False)

    def exec_small(self, small: cst.CSTNode, scope: Scope) -> None:
        if isinstance(small, cst.Assign):
            value = self.eval(small.value, scope)
            for target in small.targets:
                self.bind(target.target, value, scope)
                self.slicing_split(target.target, small.value, scope)
        elif isinstance(small, cst.Expr):
            self.eval(small.value, scope)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.bind(small.target, self.eval(small.value, scope), scope)
        elif isinstance(small, cst.AugAssign):
            value = self.binary(self.eval(small.target, scope), small.operator,
                                self.eval(small.value, scope), small)
            self.bind(small.target, value, scope)
        elif isinstance(small, cst.Return):
            value = self.eval(small.value, scope) if small.value is not None else Const(None)
            if self.returns is not None:
                self.returns.append(value)
        elif isinstance(small, cst.Import):
            for alias in small.names:
                dotted = _dotted(alias.name)
                if alias.asname is not None:
                    self.imports[alias.asname.name.value] = dotted
                else:
                    top = dotted.split(".", 1)[0]
                    self.imports[top] = top
        elif isinstance(small, cst.ImportFrom):
            if small.relative or small.module is None:
                return
            module = _dotted(small.module)
            if isinstance(small.names, cst.ImportStar):
                self.star_imports.append(names.canonical(module))
                return
            for alias in small.names:
                local = alias.asname.name.value if alias.asname else _dotted(alias.name)
                self.imports[local] = f"{module}.{_dotted(alias.name)}"
        elif isinstance(small, (cst.Raise, cst.Assert, cst.Del)):
            for child in small.children:
                if isinstance(child, cst.BaseExpression):
                    self.eval(child, scope)

    def exec_branches(self, branches: list, scope: Scope, has_else: bool) -> None:
        """Run alternative blocks from the same state and join what they leave behind."""
        base = dict(scope.vars)
        base_tails = {id(m): m.tail for m in self.sequentials}
        outcomes = []
        for body in branches:
            scope.vars = dict(base)
            for model in self.sequentials:
                model.tail = base_tails.get(id(model), model.tail)
            self.exec_block(body, scope)
            outcomes.append((scope.vars, {id(m): m.tail for m in self.sequentials}))
        if not has_else:
            outcomes.append((base, base_tails))
        joined: dict[str, Value] = {}
        for env, _ in outcomes:
            for key, value in env.items():
                joined[key] = merge(joined[key], value) if key in joined else value
        scope.vars = joined
        for model in self.sequentials:
            tails = [t[id(model)] for _, t in outcomes if id(model) in t]
            model.tail = frozenset().union(*tails) if tails else model.tail

    def exec_loop(self, stmt: cst.For | cst.While, scope: Scope) -> None:
        before = dict(scope.vars)
        if isinstance(stmt, cst.For):
            items = self.iteration(self.eval(stmt.iter, scope))
        else:
            self.eval(stmt.test, scope)
            items = [None]
        self.loops.append(stmt)
        try:
            for item in items:
                if isinstance(stmt, cst.For):
                    self.bind(stmt.target, item, scope)
                self.exec_block(stmt.body.body, scope)
        finally:
            self.loops.pop()
        for key, value in list(scope.vars.items()):  # loop-carried constants are not constant
            if key in before and before[key] is not value and isinstance(value, Const):
                scope.vars[key] = merge(before[key], value)
        if stmt.orelse is not None:
            self.exec_block(stmt.orelse.body.body, scope)

    def iteration(self, value: Value) -> list:
        """What a loop target is bound to on each analysed iteration (at most two)."""
        if isinstance(value, Seq) and value.items:
            return value.items[:1] if value.repeated else value.items[:2]
        if isinstance(value, Data):
            return [value]
        return [UNKNOWN]

    # ---- binding -----------------------------------------------------------------------------

    def bind(self, target: cst.CSTNode, value: Value, scope: Scope) -> None:
        if isinstance(target, cst.Name):
            scope.vars[target.value] = self.named(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            exact = isinstance(value, Seq) and not value.repeated and len(value.items) == len(elements)
            for i, element in enumerate(elements):
                if isinstance(element, cst.StarredElement):
                    self.bind(element.value, UNKNOWN, scope)
                    continue
                if exact and not starred:
                    item = value.items[i]
                elif isinstance(value, Seq) and value.repeated and value.items:
                    item = value.items[0]
                elif isinstance(value, (Data, Score)):
                    item = value  # x, y = test_data; loss, acc = model.evaluate(...)
                else:
                    item = UNKNOWN
                self.bind(element.value, item, scope)
        elif isinstance(target, cst.Attribute):
            owner = self.eval(target.value, scope)
            if isinstance(owner, Instance):
                owner.attrs[target.attr.value] = self.named(target.attr.value, value)
        elif isinstance(target, cst.Subscript):
            owner = self.eval(target.value, scope)
            if isinstance(owner, (Seq, Mapping_)):
                owner.items.append(value)
            if isinstance(owner, Mapping_) and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = self.eval(target.slice[0].slice.value, scope)
                if isinstance(key, Const) and isinstance(key.value, (str, int)):
                    owner.keys[key.value] = value

    def slicing_split(self, target: cst.CSTNode, value: cst.CSTNode, scope: Scope) -> None:
        """`train, test = data[:n], data[n:]` or `x_test = x[n:]`: rows sliced off under a
        held-out name split the data, as train_test_split does."""
        pairs = [(target, value)]
        if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)) \
                and len(target.elements) == len(value.elements):
            pairs = [(t.value, v.value) for t, v in zip(target.elements, value.elements)]
        for name, expr in pairs:
            if not (isinstance(name, cst.Name) and name_origin(name.value) in (TEST, VALIDATION)
                    and isinstance(expr, cst.Subscript) and isinstance(expr.value, (cst.Name, cst.Attribute))):
                continue
            rows = expr.slice[0].slice
            if isinstance(rows, cst.Slice) and (rows.lower is not None or rows.upper is not None):
                base = self.eval(expr.value, scope)  # a name or an attribute: nothing runs twice
                if isinstance(base, Data):
                    self.kfile.splits.append(Split(expr, [base], self.context(), "slicing"))

    def named(self, name: str, value: Value) -> Value:
        """A value assigned to a name: data takes the split its name marks (`x_val = x[:100]`)."""
        if value is UNKNOWN or (isinstance(value, Data) and not value.strong):
            origin = name_origin(name)
            if origin is not None:
                if value is UNKNOWN:
                    return Data(origin)
                return value.derived(origin=origin)
        return value

    # ---- expressions -------------------------------------------------------------------------

    def eval(self, expr: cst.CSTNode | None, scope: Scope) -> Value:
        if expr is None:
            return UNKNOWN
        method = _EVAL.get(type(expr))
        return method(self, expr, scope) if method is not None else UNKNOWN

    def eval_name(self, expr: cst.Name, scope: Scope) -> Value:
        name = expr.value
        found = scope.lookup(name)
        if found is not None:
            return found
        if name in self.imports:
            return Ref(names.canonical(self.imports[name]))
        if name in ("True", "False", "None"):
            return Const({"True": True, "False": False, "None": None}[name])
        bare = self.bare(name)
        if bare is not None:
            return Ref(bare)
        if name in _BUILTINS:
            return Ref(name)
        origin = name_origin(name)
        return Data(origin) if origin else UNKNOWN

    def bare(self, name: str) -> str | None:
        """A Keras name used without import: through a Keras star import, or in an import-less
        snippet when the file defines the name nowhere."""
        if name not in self._bare_cache:
            found = names.bare(name)
            if found is not None and not any(m.startswith("keras") for m in self.star_imports) and re.search(
                rf"(?:\b(?:def|class|as|import)\s+{name}\b|\b{name}\s*(?::[^=\n]*)?=(?!=)"
                rf"|\bfor\s+{name}\b|,\s*{name}\s*(?:,|\)|$))",
                self.source,
                re.M,
            ):
                found = None
            self._bare_cache[name] = found
        return self._bare_cache[name]

    def eval_attribute(self, expr: cst.Attribute, scope: Scope) -> Value:
        base = self.eval(expr.value, scope)
        attr = expr.attr.value
        if isinstance(base, Ref):
            return Ref(names.canonical(f"{base.name}.{attr}"))
        if isinstance(base, Instance):
            if attr in base.attrs:
                return base.attrs[attr]
            method = base.cls.methods.get(attr) if base.cls else None
            if method is not None:
                return _BoundMethod(method, base)
        if isinstance(base, ModelValue) and attr in ("output", "outputs"):
            return Tensor(base.tail) if base.tail else Tensor(frozenset({self.opaque(expr)}))
        if isinstance(base, Data) and attr not in _METADATA:
            return base.derived()
        if isinstance(base, Score):
            return base
        origin = name_origin(attr)
        return Data(origin) if origin else UNKNOWN

    def eval_literal(self, expr: cst.CSTNode, scope: Scope) -> Value:
        if isinstance(expr, cst.Integer) and expr.value.isdigit():
            return Const(int(expr.value))
        text = _plain_string(expr.value) if isinstance(expr, cst.SimpleString) else None
        if text is not None:
            return Const(text)
        try:
            return Const(ast.literal_eval(expr.value))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return UNKNOWN

    def eval_concat(self, expr: cst.ConcatenatedString, scope: Scope) -> Value:
        left, right = self.eval(expr.left, scope), self.eval(expr.right, scope)
        if isinstance(left, Const) and isinstance(right, Const) and type(left.value) is type(right.value):
            return Const(left.value + right.value)
        return UNKNOWN

    def eval_sequence(self, expr: cst.Tuple | cst.List, scope: Scope) -> Value:
        items: list[Value] = []
        repeated = False
        for element in expr.elements:
            value = self.eval(element.value, scope)
            if isinstance(element, cst.StarredElement):
                if isinstance(value, Seq):
                    items.extend(value.items)
                    repeated = repeated or value.repeated
                else:
                    repeated = True
            else:
                items.append(value)
        return Seq(items, repeated)

    def eval_dict(self, expr: cst.Dict, scope: Scope) -> Value:
        mapping = Mapping_([])
        for element in expr.elements:
            key = self.eval(element.key, scope) if isinstance(element, cst.DictElement) else UNKNOWN
            value = self.eval(element.value, scope)
            mapping.items.append(value)
            if isinstance(key, Const) and isinstance(key.value, (str, int)):
                mapping.keys[key.value] = value
        return mapping

    def eval_comprehension(self, expr: cst.CSTNode, scope: Scope) -> Value:
        inner = self.scope(scope)
        clause = expr.for_in
        while clause is not None:
            items = self.iteration(self.eval(clause.iter, inner))
            self.bind(clause.target, items[0] if items else UNKNOWN, inner)
            for condition in clause.ifs:
                self.eval(condition.test, inner)
            clause = clause.inner_for_in
        if isinstance(expr, cst.DictComp):
            self.eval(expr.key, inner)
            return Mapping_([self.eval(expr.value, inner)])
        return Seq([self.eval(expr.elt, inner)], repeated=True)

    def eval_unary(self, expr: cst.UnaryOperation, scope: Scope) -> Value:
        value = self.eval(expr.expression, scope)
        if isinstance(value, Const) and isinstance(expr.operator, cst.Not):
            return Const(not _truthy(value.value), value.soft)
        if isinstance(value, Const) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            if isinstance(expr.operator, cst.Minus):
                return Const(-value.value, value.soft)
            if isinstance(expr.operator, cst.Plus):
                return value
        if isinstance(value, (Data, Score)):
            return value
        return UNKNOWN

    def eval_binary(self, expr: cst.BinaryOperation, scope: Scope) -> Value:
        return self.binary(self.eval(expr.left, scope), expr.operator, self.eval(expr.right, scope), expr)

    def binary(self, left: Value, op: cst.CSTNode, right: Value, expr: cst.CSTNode) -> Value:
        if isinstance(left, Const) and isinstance(right, Const):
            return _soften(_fold(left.value, op, right.value), left, right)
        data = [v for v in (left, right) if isinstance(v, Data)]
        if data:
            other = right if data[0] is left else left
            scaled = True if isinstance(op, (cst.Divide, cst.Multiply)) and isinstance(other, Const) else None
            return dataclasses.replace(combine(data), scaled=scaled if len(data) == 1 else None)
        scores = [v for v in (left, right) if isinstance(v, Score)]
        if scores:
            return scores[0]
        tensors = [v for v in (left, right) if isinstance(v, Tensor)]
        if tensors:
            return self.apply_op(expr, tensors)
        if isinstance(left, Seq) and isinstance(right, Seq) and isinstance(op, cst.Add):
            return Seq(left.items + right.items, left.repeated or right.repeated)
        return UNKNOWN

    def eval_compare(self, expr: cst.Comparison, scope: Scope) -> Value:
        nodes = [expr.left] + [c.comparator for c in expr.comparisons]
        operands = [self.eval(node, scope) for node in nodes]
        scores = [v for v in operands if isinstance(v, Score)]
        # A score compared with a variable (the best so far, another model's score) selects;
        # a score compared with a literal threshold only reports.
        if scores and any(not isinstance(v, Score) and not _is_literal(n) for v, n in zip(operands, nodes)):
            for score in scores:
                score.source.selected = True
        if scores:
            return scores[0]
        if len(operands) == 2 and all(isinstance(v, Const) for v in operands):
            return _soften(_compare(operands[0].value, expr.comparisons[0].operator, operands[1].value),
                           *operands)
        return UNKNOWN

    def eval_boolean(self, expr: cst.BooleanOperation, scope: Scope) -> Value:
        left, right = self.eval(expr.left, scope), self.eval(expr.right, scope)
        if isinstance(left, Const) and isinstance(right, Const) and not (left.soft or right.soft):
            if isinstance(expr.operator, cst.And):
                return left if not _truthy(left.value) else right
            return left if _truthy(left.value) else right
        return merge(left, right)

    def eval_ifexp(self, expr: cst.IfExp, scope: Scope) -> Value:
        test = self.eval(expr.test, scope)
        if isinstance(test, Const) and not test.soft:
            return self.eval(expr.body if _truthy(test.value) else expr.orelse, scope)
        return merge(self.eval(expr.body, scope), self.eval(expr.orelse, scope))

    def eval_subscript(self, expr: cst.Subscript, scope: Scope) -> Value:
        base = self.eval(expr.value, scope)
        index: Value = UNKNOWN
        for element in expr.slice:
            if isinstance(element.slice, cst.Index):
                index = self.eval(element.slice.value, scope)
            else:
                for part in (element.slice.lower, element.slice.upper, element.slice.step):
                    self.eval(part, scope)
        if isinstance(base, Seq) and isinstance(index, Const) and isinstance(index.value, int):
            if base.repeated:
                return base.items[0] if base.items else UNKNOWN
            if -len(base.items) <= index.value < len(base.items):
                return base.items[index.value]
            return UNKNOWN
        if isinstance(base, Data):
            if isinstance(index, FoldIndex):
                return base.derived(origin=index.origin, strong=True)
            return base.derived(strong=False)  # a slice may be carved out: not strong
        if isinstance(index, FoldIndex):
            return Data(index.origin, strong=True)
        if isinstance(base, Mapping_) and isinstance(index, Const) and index.value in base.keys:
            return base.keys[index.value]
        if isinstance(base, Score):
            return base
        if isinstance(index, Const) and isinstance(index.value, str):
            origin = name_origin(index.value)
            if origin:
                return Data(origin)
        return UNKNOWN

    def eval_lambda(self, expr: cst.Lambda, scope: Scope) -> Value:
        return FunctionValue(expr, scope=scope)

    def eval_named_expr(self, expr: cst.NamedExpr, scope: Scope) -> Value:
        value = self.eval(expr.value, scope)
        self.bind(expr.target, value, scope)
        return value

    def eval_inner(self, expr: cst.CSTNode, scope: Scope) -> Value:
        return self.eval(expr.value, scope)

    def eval_yield(self, expr: cst.Yield, scope: Scope) -> Value:
        value = expr.value
        self.eval(value.item if isinstance(value, cst.From) else value, scope)
        self.yielded = True
        return UNKNOWN  # what the caller sends in

    def eval_await(self, expr: cst.Await, scope: Scope) -> Value:
        self.eval(expr.expression, scope)
        return UNKNOWN  # what a coroutine returns is not what calling it returns

    def eval_formatted(self, expr: cst.FormattedString, scope: Scope) -> Value:
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringExpression):
                self.eval(part.expression, scope)
        return UNKNOWN

    # ---- calls -------------------------------------------------------------------------------

    def eval_args(self, call: cst.Call, scope: Scope) -> Args:
        args = Args([], {})
        for arg in call.args:
            value = self.eval(arg.value, scope)
            if arg.star:
                args.star = True
            elif arg.keyword is not None:
                args.keywords[arg.keyword.value] = (value, arg.value)
            else:
                args.positional.append((value, arg.value))
        return args

    def eval_call(self, call: cst.Call, scope: Scope) -> Value:
        func = call.func
        if isinstance(func, cst.Attribute):
            if _is_super(func.value):
                return self.call_super(func.attr.value, self.eval_args(call, scope))
            receiver = self.eval(func.value, scope)
            method = func.attr.value
            if isinstance(receiver, Ref):
                return self.call_ref(names.canonical(f"{receiver.name}.{method}"), call,
                                     self.eval_args(call, scope), scope)
            if isinstance(receiver, Instance) and method not in receiver.attrs:
                bound = self.eval_attribute(func, scope)
                if isinstance(bound, _BoundMethod):
                    return self.inline(bound.function, self.eval_args(call, scope), bound_self=bound.owner)
            if not (isinstance(receiver, Instance) and method in receiver.attrs):
                return self.call_method(receiver, method, call, self.eval_args(call, scope), scope)
        callee = self.eval(func, scope)
        args = self.eval_args(call, scope)
        return self.call_value(callee, call, args, scope)

    def call_super(self, method: str, args: Args) -> Value:
        """`super().method(...)` inside a method: the first base class of the file defining it."""
        if self.frames:
            function, owner = self.frames[-1]
            for parent in function.owner.parents if function.owner else ():
                if method in parent.methods:
                    return self.inline(parent.methods[method], args, bound_self=owner)
        return UNKNOWN

    def call_value(self, callee: Value, call: cst.Call, args: Args, scope: Scope) -> Value:
        if isinstance(callee, Ref):
            return self.call_ref(callee.name, call, args, scope)
        if isinstance(callee, LayerNode):
            return self.apply_layer(callee, args, call)
        if isinstance(callee, ModelValue):
            tensors = [v for v, _ in args.positional[:1] if isinstance(v, Tensor)]
            callee.component = callee.component or bool(tensors)
            if callee.kind == "sequential" and callee.nodes and tensors:
                for producer in tensors[0].producers:
                    self.connect(producer, callee.nodes[0])
            return Tensor(callee.tail) if callee.tail else Tensor(frozenset({self.opaque(call)}))
        if isinstance(callee, FunctionValue):
            return self.inline(callee, args)
        if isinstance(callee, _BoundMethod):
            return self.inline(callee.function, args, bound_self=callee.owner)
        if isinstance(callee, ClassInfo):
            return self.instantiate(callee, call, args)
        return self.generic_call(None, args, call)

    def call_ref(self, name: str, call: cst.Call, args: Args, scope: Scope) -> Value:
        short = name.rsplit(".", 1)[-1]
        if name in ("keras.Input", "keras.layers.InputLayer"):
            node = self.new_node("input", call, args)
            return node if short == "InputLayer" else Tensor(frozenset({node}))
        module = name.rsplit(".", 1)[0]
        if module in _TF1_LAYER_MODULES:
            return self.tf1_layer(short, call, args)
        if module in _LOSS_MODULES or (module == "tensorflow.nn" and "cross_entropy" in short):
            if short[:1].isupper():
                return LossValue(name, args, call)
            if any(contains(v, Tensor, 1) for v, _ in args.positional + list(args.keywords.values())):
                self.kfile.losses.append(LossCall(call, name, args, self.context()))
                return Tensor(frozenset({self.opaque(call)}))
            return UNKNOWN
        if name.startswith("keras.layers.") or name.startswith(("keras_nlp.layers.", "keras_hub.layers.")):
            if short in names.MERGE_FUNCTIONS and name.startswith("keras.layers."):
                # layers.add([a, b]): an Add layer made and applied in one call
                node = self.new_node(f"keras.layers.{names.MERGE_FUNCTIONS[short]}", call, Args([], {}))
                return self.apply_layer(node, args, call)
            spelled = call.func.attr.value if isinstance(call.func, cst.Attribute) else getattr(call.func, "value", "")
            if spelled in names.OLD_LAYER_NAMES:  # Keras 1: Convolution2D(filters, rows, cols, ...)
                args = Args(args.positional[:1], args.keywords, args.star)
            keras1 = not names.KERAS1_LAYER_KEYWORDS.isdisjoint(args.keywords)
            return self.new_node(name, call, args.renamed(names.OLD_LAYER_KEYWORDS, keras1=keras1))
        if (name.startswith(_PREPROCESSORS) or short == "ImageDataGenerator") and short[:1].isupper():
            return PreprocessorValue(name, args)
        if name == "keras.Sequential":
            return self.new_sequential(call, args)
        if name == "keras.Model":
            outputs = args.value("outputs", 1)
            if outputs is None:
                return UNKNOWN
            model = ModelValue("functional", call, nodes=self.closure(outputs),
                               tail=frozenset(p for t in contains(outputs, Tensor) for p in t.producers))
            self.kfile.models.append(model)
            return model
        if name in _LOADED_MODELS or name.startswith("keras.applications."):
            model = ModelValue("loaded", call)
            self.kfile.models.append(model)
            return model
        if name.startswith("keras.optimizers.schedules."):
            return self.schedule(short, args)
        if name.startswith(("keras.optimizers.", "tensorflow_addons.optimizers.")):
            optimizer = OptimizerValue(name, call, self.statement, args, self.in_test > 0)
            self.kfile.optimizers.append(optimizer)
            return optimizer
        if name.startswith("keras.callbacks."):
            return CallbackValue(name, args, touches_lr=short == "LearningRateScheduler")
        if name.startswith("keras.datasets.") and short == "load_data":
            images = any(part in _IMAGE_DATASETS for part in name.split("."))
            return Seq([Seq([Data(origin, "array", strong=True, image=images, scaled=False if images else None),
                             Data(origin, "array", strong=True)]) for origin in (TRAIN, TEST)])
        if short == "train_test_split" and name.startswith("sklearn."):
            return self.train_test_split(call, args)
        if short in _SPLITTERS and name.startswith("sklearn."):
            return Splitter(short)
        if name.startswith(("keras_tuner.", "kerastuner.")):
            return self.tuner_call(name, short, call, args)
        if name in ("tensorflow_datasets.load", "tensorflow_datasets.builder"):
            return self.split_by_argument(args.value("split", 1), "dataset")
        if short in ("image_dataset_from_directory", "text_dataset_from_directory",
                     "audio_dataset_from_directory", "flow_from_directory", "flow_from_dataframe"):
            return self.directory_dataset(args, "generator" if short.startswith("flow") else "dataset")
        if short in ("to_categorical", "one_hot"):
            first = args.value("x", 0) or args.value("indices", 0)
            return first.derived(onehot=True) if isinstance(first, Data) else Data(kind="array", onehot=True)
        if short in ("from_tensor_slices", "from_tensors", "zip") and name.startswith("tensorflow.data"):
            found = contains(args.value("tensors", 0) or UNKNOWN, Data)
            if not found:
                return Data(UNKNOWN_ORIGIN, "dataset")
            features = found[0]  # (x, y): pixel scaling is a fact about x
            return combine(found, "dataset").derived(image=features.image, scaled=features.scaled)
        if short in names.ACTIVATION_FUNCTIONS and name.rsplit(".", 1)[0] in names.ACTIVATION_FUNCTION_NAMESPACES:
            first = args.value("x", 0) or args.value("features", 0)
            if isinstance(first, Tensor):
                node = self.new_node(f"op:{short}", call, args)
                node.uses.append(Use("apply", call, self.statement))
                for producer in first.producers:
                    self.connect(producer, node)
                return Tensor(frozenset({node}))
            return Ref(name) if not args.positional else UNKNOWN
        if name in ("range",) or name.endswith(".range"):
            return self.range(args)
        if name in ("enumerate", "zip", "list", "tuple", "reversed", "sorted", "iter"):
            return self.builtin_sequence(name, args)
        if name == "dict" and not args.positional:
            values = {key: value for key, (value, _) in args.keywords.items()}
            return Mapping_(list(values.values()), values)
        return self.generic_call(name, args, call)

    def call_method(self, receiver: Value, method: str, call: cst.Call, args: Args, scope: Scope) -> Value:
        if isinstance(receiver, ModelValue):
            return self.model_method(receiver, method, call, args)
        if receiver is UNKNOWN and method == "compile" and (
            "optimizer" in args.keywords or "loss" in args.keywords
        ):
            # A model the IR did not see built (a parameter, an attribute): compile() shows it is one.
            model = ModelValue("unknown", None)
            self.kfile.models.append(model)
            self.bind(call.func.value, model, scope)
            return self.model_method(model, method, call, args)
        if method in ("Float", "Int", "Choice") and _numeric_hyperparameter(method, args):
            return Hyperparameter(method)
        if isinstance(receiver, Splitter) and method == "split":
            self.kfile.splits.append(Split(call, [v for v, _ in args.positional[:1] if isinstance(v, Data)],
                                           self.context(), f"{receiver.kind}.split()"))
            return Seq([Seq([FoldIndex(TRAIN), FoldIndex(VALIDATION)])], repeated=True)
        first = args.value("X", 0) or args.value("data", 0) or args.value("texts", 0)
        if method in ("fit", "fit_transform", "fit_on_texts", "adapt") and isinstance(first, Data) and (
            isinstance(receiver, PreprocessorValue)
            or (method == "adapt" and isinstance(receiver, LayerNode) and receiver.short in _ADAPTABLE)
        ):
            self.kfile.preprocessings.append(Preprocessing(call, method, first, self.context(), receiver))
            if method == "fit_transform":
                return first.derived(scaled=True)
            return receiver if method == "fit" else Const(None)
        if isinstance(receiver, PreprocessorValue) and method in ("transform", "texts_to_sequences",
                                                                  "texts_to_matrix", "inverse_transform"):
            if not isinstance(first, Data):
                return UNKNOWN
            return first.derived(scaled=True if method == "transform" else None)
        if method in ("flow", "flow_from_directory", "flow_from_dataframe"):
            if method != "flow":
                return self.directory_dataset(args, "generator")
            first, batch = args.value("x", 0), _literal_int(args.value("batch_size", 2)) or 32
            if not isinstance(first, Data):
                return Data(UNKNOWN_ORIGIN, "generator", batch)
            known = isinstance(receiver, PreprocessorValue)
            scaled = True if known and receiver.rescales else (first.scaled if known else None)
            return first.derived(kind="generator", batch=batch, scaled=scaled)
        if isinstance(receiver, Data) and method in _DATA_METHODS:
            batch = args.value("batch_size", 0) if method == "batch" else None
            kind = receiver.kind if receiver.kind != "unknown" or method not in (
                "batch", "prefetch", "map", "shuffle") else "dataset"
            return receiver.derived(kind, batch.value if isinstance(batch, Const) and isinstance(batch.value, int) else None)
        if isinstance(receiver, Seq) and method in ("append", "extend", "insert"):
            for value, _ in args.positional[-1:]:
                if method == "extend" and isinstance(value, Seq):
                    receiver.items.extend(value.items)
                else:
                    receiver.items.append(value)
            return Const(None)
        if isinstance(receiver, Mapping_) and method in ("update", "setdefault"):
            receiver.items.extend(v for v, _ in args.positional)
            return UNKNOWN
        if method in _SELECTORS:
            self.select([receiver] + [v for v, _ in args.positional], args)
            return UNKNOWN
        if isinstance(receiver, Mapping_) and method in ("values", "items"):
            return Seq(list(receiver.items), repeated=True)
        if isinstance(receiver, Data) and not any(contains(v, Data, 1) for v, _ in args.positional):
            return receiver.derived()
        if isinstance(receiver, Score):
            return receiver
        if isinstance(receiver, Tensor):
            return self.apply_op(call, [receiver])
        return self.generic_call(None, args, call)

    def generic_call(self, name: str | None, args: Args, call: cst.Call) -> Value:
        """A call the IR has no special knowledge of: propagate data, scores and tensors."""
        values = [v for v, _ in args.positional] + [v for v, _ in args.keywords.values()]
        short = name.rsplit(".", 1)[-1] if name else None
        if short in _SELECTORS or (name or "").endswith("argsort"):
            self.select(values, args)
            return UNKNOWN
        if short in _SINKS:
            return UNKNOWN
        scores = [s for v in values for s in contains(v, Score, 1)]
        if scores:
            return scores[0]
        data = [d for v in values for d in contains(v, Data, 1)]
        if data and (name is None or name.startswith(_DATA_MODULES)):
            combined = combine(data)
            if short in _SCALING:
                return combined.derived(scaled=True)
            return combined if short in _VALUE_PRESERVING else combined.derived(scaled=None)
        if name is not None and name.startswith(_DATA_SOURCES):
            return Data(UNKNOWN_ORIGIN, "array")
        tensors = [t for v in values for t in contains(v, Tensor, 2)]
        if tensors:
            return self.apply_op(call, tensors)
        return UNKNOWN

    # ---- Keras objects -----------------------------------------------------------------------

    def new_node(self, kind: str, call: cst.CSTNode | None, args: Args, cls: ClassInfo | None = None) -> LayerNode:
        node = LayerNode(kind, call, self.statement, args, cls, in_test=self.in_test > 0)
        self.kfile.nodes.append(node)
        return node

    def opaque(self, expr: cst.CSTNode) -> LayerNode:
        return self.new_node("opaque", expr, Args([], {}))

    def connect(self, source: LayerNode, target: LayerNode) -> None:
        self.kfile.preds.setdefault(target, set()).add(source)

    def apply_layer(self, layer: LayerNode, args: Args, call: cst.Call) -> Value:
        layer.uses.append(Use("apply", call, self.statement))
        inputs = args.value("inputs", 0)
        for tensor in contains(inputs, Tensor) if inputs is not None else []:
            for producer in tensor.producers:
                self.connect(producer, layer)
        return Tensor(frozenset({layer}))

    def apply_op(self, expr: cst.CSTNode, tensors: list) -> Tensor:
        node = self.opaque(expr)
        for tensor in tensors:
            for producer in tensor.producers:
                self.connect(producer, node)
        return Tensor(frozenset({node}))

    def closure(self, outputs: Value) -> list:
        """Every node a functional model's outputs depend on."""
        seen: dict[int, LayerNode] = {}
        stack = [p for t in contains(outputs, Tensor) for p in t.producers]
        while stack:
            node = stack.pop()
            if id(node) not in seen:
                seen[id(node)] = node
                stack.extend(self.kfile.inputs_of(node))
        return list(seen.values())

    def new_sequential(self, call: cst.Call, args: Args) -> ModelValue:
        model = ModelValue("sequential", call)
        self.kfile.models.append(model)
        self.sequentials.append(model)
        given = args.get("layers", 0)
        if given is not None and isinstance(given[0], Seq):
            container = given[1]
            elements = container.elements if isinstance(container, (cst.List, cst.Tuple)) else ()
            exact = len(elements) == len(given[0].items) and not given[0].repeated
            for i, item in enumerate(given[0].items):
                use = Use("element", elements[i], self.statement, container) if exact else None
                self.add_to_sequential(model, item, call, use)
        return model

    def add_to_sequential(self, model: ModelValue, item: Value, at: cst.CSTNode, use: Use | None) -> None:
        if isinstance(item, ModelValue):
            item.component = True
        if isinstance(item, LayerNode):
            node, tail = item, frozenset({item})
            if use is not None:
                node.uses.append(use)
        elif isinstance(item, ModelValue) and item.kind == "sequential" and item.nodes:
            node, tail = item.nodes[0], item.tail
            model.nodes.extend(item.nodes[1:])
        elif isinstance(item, Tensor) and not model.nodes and all(p.kind == "input" for p in item.producers):
            node, tail = next(iter(item.producers)), item.producers  # Sequential([keras.Input(...), ...])
        else:
            node = self.opaque(at)
            tail = frozenset({node})
        for previous in model.tail:
            self.connect(previous, node)
        model.nodes.append(node)
        model.tail = tail

    def model_method(self, model: ModelValue, method: str, call: cst.Call, args: Args) -> Value:
        if method == "add" and model.kind in ("sequential", "unknown"):
            layer = args.value("layer", 0)
            if layer is not None:
                self.add_to_sequential(model, layer, call, Use("add", call, self.statement))
            return Const(None)
        if method == "compile":
            self.kfile.compiles.append(CompileCall(call, model, args, self.context()))
        elif method in ("fit", "fit_generator"):
            self.kfile.fits.append(FitCall(call, model, args.renamed(names.OLD_FIT_KEYWORDS), self.context(), method))
        elif method.startswith(("evaluate", "predict")):
            record = EvaluateCall(call, model, args, self.context(), method)
            self.kfile.evaluates.append(record)
            return Score(record)
        return UNKNOWN

    def tf1_layer(self, short: str, call: cst.Call, args: Args) -> Value:
        """`tf.layers.dense(x, 10, activation=...)`: a layer made and applied in one call."""
        if short[:1].isupper():  # tf.layers.Dense: the Keras class under its TF1 name
            return self.new_node(f"keras.layers.{short}", call, args)
        keras_name = _TF1_LAYERS.get(short)
        if keras_name is None:
            return UNKNOWN
        inputs = args.value("inputs", 0)
        layer_args = Args(args.positional[1:] if "inputs" not in args.keywords else args.positional,
                          {k: v for k, v in args.keywords.items() if k != "inputs"}, args.star)
        node = self.new_node(f"keras.layers.{keras_name}", call, layer_args)
        for tensor in contains(inputs, Tensor) if inputs is not None else []:
            for producer in tensor.producers:
                self.connect(producer, node)
        return Tensor(frozenset({node}))

    def schedule(self, short: str, args: Args) -> ScheduleValue:
        if short == "CosineDecay":
            steps = args.value("warmup_steps")
            warmup = None if steps is None else not (isinstance(steps, Const) and not steps.value)
            return ScheduleValue(short, bool(warmup))
        if short == "PiecewiseConstantDecay":
            values = args.value("values", 1)
            if isinstance(values, Seq) and len(values.items) >= 2 and all(
                isinstance(v, Const) and isinstance(v.value, (int, float)) for v in values.items
            ):
                return ScheduleValue(short, values.items[1].value > values.items[0].value)
            return ScheduleValue(short, None)
        if short in names.SCHEDULES:
            return ScheduleValue(short, False)
        return ScheduleValue(short, None)

    def train_test_split(self, call: cst.Call, args: Args) -> Value:
        inputs = [v for v, _ in args.positional]
        outputs: list[Value] = []
        for value in inputs or [UNKNOWN]:
            source = value if isinstance(value, Data) else Data(UNKNOWN_ORIGIN, "array")
            held_out = VALIDATION if source.origin == TRAIN else TEST
            kind = source.kind if source.kind != "unknown" else "array"
            outputs += [source.derived(kind, origin=TRAIN, strong=False),
                        source.derived(kind, origin=held_out, strong=False)]
        self.kfile.splits.append(Split(call, [v for v in inputs if isinstance(v, Data)], self.context()))
        return Seq(outputs, repeated=args.star)

    def split_by_argument(self, split: Value | None, kind: str) -> Value:
        if isinstance(split, Seq):
            return Seq([self.split_by_argument(item, kind) for item in split.items], split.repeated)
        if isinstance(split, Const) and isinstance(split.value, str):
            origin = _split_origin(split.value)
            return Data(origin, kind, strong=origin != UNKNOWN_ORIGIN)
        return Data(UNKNOWN_ORIGIN, kind)

    def directory_dataset(self, args: Args, kind: str) -> Value:
        made = self._directory_dataset(args, kind)
        batch = _literal_int(args.value("batch_size")) or 32  # the Keras default
        for part in made.items if isinstance(made, Seq) else [made]:
            part.batch = batch
        return made

    def _directory_dataset(self, args: Args, kind: str) -> Value:
        subset = args.value("subset")
        if isinstance(subset, Const) and subset.value == "both":
            return Seq([Data(TRAIN, kind, strong=True), Data(VALIDATION, kind, strong=True)])
        origin = None
        if isinstance(subset, Const) and isinstance(subset.value, str):
            origin = name_origin(subset.value)
        directory = args.value("directory", 0)
        if origin is None and isinstance(directory, Const) and isinstance(directory.value, str):
            origin = path_origin(directory.value)
        if origin is not None:
            return Data(origin, kind, strong=True)
        if isinstance(directory, Data):
            return Data(directory.origin, kind)
        return Data(UNKNOWN_ORIGIN, kind)

    def tuner_call(self, name: str, short: str, call: cst.Call, args: Args) -> Value:
        if short == "search":
            self.kfile.fits.append(FitCall(call, None, args, self.context(), "search"))
            return UNKNOWN
        if short in ("get_best_models", "build"):
            model = ModelValue("tuner", call, builder=None)
            model.builder = "keras_tuner"  # every tuner model is "the searched model"
            self.kfile.models.append(model)
            return Seq([model], repeated=True) if short == "get_best_models" else model
        if short[:1].isupper() or short == "hypermodel":
            return Ref("keras_tuner.Tuner" if short != "hypermodel" else "keras_tuner.Tuner.hypermodel")
        return UNKNOWN

    def range(self, args: Args) -> Value:
        bounds = [v.value for v, _ in args.positional if isinstance(v, Const)]
        if len(bounds) != len(args.positional) or not bounds or not all(isinstance(b, int) for b in bounds):
            return Seq([Const(0)], repeated=True) if not args.star else UNKNOWN
        try:
            values = range(*bounds)
        except (TypeError, ValueError):
            return UNKNOWN
        return Seq([Const(v) for v in values[:2]], repeated=False) if len(values) >= 2 else \
            Seq([Const(v) for v in values])

    def select(self, values: list, args: Args) -> None:
        """max()/sorted()/argmax() over scores: the evaluations behind them choose something.
        Over a dict without key=, they only see its keys."""
        for value in values:
            if isinstance(value, Mapping_) and "key" not in args.keywords:
                continue
            for score in contains(value, Score):
                score.source.selected = True

    def builtin_sequence(self, name: str, args: Args) -> Value:
        values = [v for v, _ in args.positional]
        if name == "enumerate" and values:
            items = self.iteration(values[0])
            return Seq([Seq([Const(i), item]) for i, item in enumerate(items)],
                       repeated=not isinstance(values[0], Seq) or values[0].repeated)
        if name == "zip" and values:
            columns = [self.iteration(v) for v in values]
            return Seq([Seq(list(row)) for row in zip(*columns)], repeated=True)
        if name == "sorted":
            self.select(values, args)
        return values[0] if values and isinstance(values[0], Seq) else UNKNOWN

    # ---- functions and classes ---------------------------------------------------------------

    def inline(self, fn: FunctionValue, args: Args, bound_self: Value | None = None,
               standalone: bool = False) -> Value:
        node = fn.node
        if not standalone and (node in self.call_stack or len(self.call_stack) >= MAX_INLINE_DEPTH
                               or self.budget <= 0):
            return UNKNOWN
        self.analysed.add(node)
        scope = self.scope(fn.scope or self.globals)
        self.bind_params(node.params, args, bound_self, scope, fn.scope or self.globals, standalone)
        saved = (self.returns, self.yielded, self.statement, self.loops)
        self.returns, self.yielded = [], False
        if standalone:
            self.loops = []
        self.call_stack.append(node)
        self.frames.append((fn, bound_self))
        is_test = isinstance(node, cst.FunctionDef) and node.name.value.startswith("test")
        self.in_test += is_test
        try:
            if isinstance(node, cst.Lambda):
                self.returns.append(self.eval(node.body, scope))
            else:
                self.exec_block(_body(node), scope)
        finally:
            self.in_test -= is_test
            self.frames.pop()
            self.call_stack.pop()
            returns, yielded = self.returns, self.yielded
            self.returns, self.yielded, self.statement, self.loops = saved
        if yielded:  # a generator function: the call returns a generator over what it is given
            given = [found for value, _ in [*args.positional, *args.keywords.values()]
                     for found in contains(value, Data)]
            return combine(given, "generator") if given else Data(UNKNOWN_ORIGIN, "generator")
        result: Value = returns[0] if returns else Const(None)
        for value in returns[1:]:
            result = merge(result, value)
        if isinstance(result, ModelValue) and result.builder is None and isinstance(node, cst.FunctionDef):
            result.builder = node
        return result

    def bind_params(self, params: cst.Parameters, args: Args, bound_self: Value | None,
                    scope: Scope, defining: Scope, standalone: bool) -> None:
        def default(param: cst.Param) -> Value:
            value = self.eval(param.default, defining)
            return Const(value.value, soft=True) if standalone and isinstance(value, Const) else value

        positional = list(params.posonly_params) + list(params.params)
        given = [v for v, _ in args.positional]
        if bound_self is not None:
            given.insert(0, bound_self)
        for i, param in enumerate(positional):
            name = param.name.value
            if i < len(given):
                value = given[i]
            elif name in args.keywords:
                value = args.keywords[name][0]
            elif param.default is not None and not args.star:
                value = default(param)
            else:
                value = UNKNOWN
            scope.vars[name] = self.named(name, value)
        for param in params.kwonly_params:
            name = param.name.value
            if name in args.keywords:
                value = args.keywords[name][0]
            elif param.default is not None and not args.star:
                value = default(param)
            else:
                value = UNKNOWN
            scope.vars[name] = self.named(name, value)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.vars[star.name.value] = UNKNOWN

    def define_class(self, node: cst.ClassDef, scope: Scope) -> ClassInfo:
        bases: list[str] = []
        parents: list[ClassInfo] = []
        for arg in node.bases:
            base = self.eval(arg.value, scope)
            if isinstance(base, Ref):
                bases.append(base.name)
            elif isinstance(base, ClassInfo):
                bases.extend(base.bases)
                parents.append(base)
        info = ClassInfo(node, tuple(bases), {}, tuple(parents))
        self.kfile._namespaces.append(info.methods)
        for parent in reversed(parents):
            info.methods.update(parent.methods)
        for stmt in node.body.body:
            if isinstance(stmt, cst.FunctionDef):
                info.methods[stmt.name.value] = FunctionValue(stmt, scope=scope, owner=info)
        text = self.kfile.code(node) if info.derives(
            "keras.optimizers.schedules.LearningRateSchedule", "keras.callbacks.Callback"
        ) else ""
        info.mentions_warmup = bool(_WARMUP.search(text))
        info.touches_lr = info.mentions_warmup or bool(re.search(r"\blr\b|learning_rate", text))
        if info.derives("keras.Model", "keras.layers.Layer", "keras.Sequential"):
            self.analyse_keras_class(info)
        else:
            self.pending.append(info)
        return info

    def analyse_keras_class(self, info: ClassInfo) -> None:
        """Layers a subclassed Model/Layer creates (__init__, build) and how call() chains them."""
        first = len(self.kfile.nodes)
        owner = Instance(info)
        inputs = self.new_node("input", None, Args([], {}))
        for name in ("__init__", "build", "call"):
            method = info.methods.get(name)
            if method is None:
                continue
            args = Args([(Tensor(frozenset({inputs})), None)], {}) if name == "call" else Args([], {})
            returned = self.inline(method, args, bound_self=owner, standalone=True)
            if name == "call" and isinstance(returned, Tensor):
                info.outputs = frozenset(p for p in returned.producers if p is not inputs)
        info.nodes = [n for n in self.kfile.nodes[first:] if n is not inputs and n.kind != "opaque"]
        for other in info.methods.values():
            if other.node not in self.analysed:
                self.inline(other, Args([], {}), bound_self=owner, standalone=True)

    def analyse_plain_class(self, info: ClassInfo) -> None:
        owner = Instance(info)
        is_callback = info.derives("keras.callbacks.Callback")
        if is_callback:
            owner.attrs["model"] = ModelValue("unknown", None)  # the model being trained
        is_test = not is_callback and (
            any(base.endswith("TestCase") for base in info.bases)
            or info.node.name.value.startswith("Test")  # pytest's convention
        )
        self.in_test += is_test
        self.in_callback += is_callback
        ordered = sorted(info.methods.values(), key=lambda f: f.node.name.value != "__init__")
        for method in ordered:
            if method.node not in self.analysed:
                self.inline(method, Args([], {}), bound_self=owner, standalone=True)
        self.in_test -= is_test
        self.in_callback -= is_callback

    def instantiate(self, info: ClassInfo, call: cst.Call, args: Args) -> Value:
        if info.derives("keras.Model", "keras.Sequential"):
            nodes = list(info.nodes)
            init = info.methods.get("__init__")
            if init is not None and (args.positional or args.keywords):
                # A wrapper model (a distiller, a GAN) gets its sub-models through __init__.
                owner = Instance(info)
                self.inline(init, args, bound_self=owner)
                for value in owner.attrs.values():
                    for part in contains(value, Value, 2):
                        if isinstance(part, ModelValue):
                            nodes += model_nodes(part)
            model = ModelValue("subclass", call, nodes=nodes, tail=info.outputs, cls=info, builder=info.node)
            self.kfile.models.append(model)
            return model
        if info.derives("keras.layers.Layer"):
            return self.new_node(f"user:{info.node.name.value}", call, args, cls=info)
        if info.derives("keras.optimizers.schedules.LearningRateSchedule"):
            return ScheduleValue(info.node.name.value, True if info.mentions_warmup else None)
        if info.derives("keras.callbacks.Callback"):
            return CallbackValue(f"user:{info.node.name.value}", args, touches_lr=info.touches_lr)
        return Instance(info)


class _BoundMethod(Value):
    def __init__(self, function: FunctionValue, owner: Instance) -> None:
        self.function = function
        self.owner = owner


def _plain_string(literal: str) -> str | None:
    """The value of a str literal that needs no escape processing (most of them), as
    ast.literal_eval gives it but without compiling; None for the others."""
    raw = literal[:1] in "rR"
    body = literal[1:] if raw or literal[:1] in "uU" else literal
    quotes = 3 if body[:3] in ('"""', "'''") else 1
    if body[:1] not in "\"'" or "\r" in body or (not raw and "\\" in body):
        return None  # bytes, two-letter prefixes, escapes, and line breaks Python normalizes
    return body[quotes:-quotes]


def _split_origin(split: str) -> str:
    base = re.split(r"[\[+]", split, 1)[0].strip().lower()
    origin = name_origin(base) or UNKNOWN_ORIGIN
    if origin == TRAIN and "[" in split and re.search(r"\[\s*-?\d+%?\s*:\s*\]", split):
        return VALIDATION  # "train[80%:]": the held-out tail of the training split
    return origin


def _fold(left, op: cst.CSTNode, right) -> Value:
    numbers = (int, float)
    try:
        if isinstance(op, cst.Add) and type(left) is type(right) and isinstance(left, (int, float, str)):
            return Const(left + right)
        if not (isinstance(left, numbers) and isinstance(right, numbers)) or isinstance(left, bool) or isinstance(right, bool):
            return UNKNOWN
        if isinstance(op, cst.Subtract):
            return Const(left - right)
        if isinstance(op, cst.Multiply):
            return Const(left * right)
        if isinstance(op, cst.Divide):
            return Const(left / right)
        if isinstance(op, cst.FloorDivide):
            return Const(left // right)
        if isinstance(op, cst.Modulo):
            return Const(left % right)
        if isinstance(op, cst.Power) and abs(right) <= 64 and abs(left) < 1e6:
            return Const(left ** right)
    except (ArithmeticError, ValueError):
        pass
    return UNKNOWN


def _numeric_hyperparameter(method: str, args: Args) -> bool:
    """keras-tuner's `hp.Float(name, ...)`, `hp.Int(name, ...)` or `hp.Choice(name, [numbers])`:
    a method named so, whose first argument is the hyperparameter's name."""
    name = args.value("name", 0)
    if not (isinstance(name, Const) and isinstance(name.value, str)):
        return False
    if method != "Choice":
        return True
    values = args.value("values", 1)
    return isinstance(values, Seq) and bool(values.items) and all(
        isinstance(item, Const) and isinstance(item.value, (int, float)) and not isinstance(item.value, bool)
        for item in values.items)


def _literal_int(value: Value | None) -> int | None:
    if isinstance(value, Const) and isinstance(value.value, int) and not isinstance(value.value, bool):
        return value.value
    return None


def _soften(result: Value, *operands: Const) -> Value:
    if isinstance(result, Const) and any(o.soft for o in operands):
        result.soft = True
    return result


def _truthy(value) -> bool:
    try:
        return bool(value)
    except Exception:  # an exotic literal; treat as unknown-but-true
        return True


_COMPARE = {
    cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b,
    cst.LessThan: lambda a, b: a < b, cst.GreaterThan: lambda a, b: a > b,
    cst.LessThanEqual: lambda a, b: a <= b, cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.In: lambda a, b: a in b, cst.NotIn: lambda a, b: a not in b,
    cst.Is: lambda a, b: a is b if a is None or b is None else a == b,
    cst.IsNot: lambda a, b: a is not b if a is None or b is None else a != b,
}


def _compare(left, operator: cst.CSTNode, right) -> Value:
    try:
        return Const(bool(_COMPARE[type(operator)](left, right)))
    except (TypeError, KeyError):
        return UNKNOWN


_TEST_FRAMEWORKS = ("pytest", "unittest", "absl.testing", "keras.src.testing", "keras.testing",
                    "tf_keras.src.testing", "tensorflow.python.keras.testing_infra",
                    "tensorflow.python.framework.test_util")


def _is_test_module(module: cst.Module) -> bool:
    """A module that imports a test framework at its top level is a test module."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                modules = [_dotted(alias.name) for alias in small.names]
            elif isinstance(small, cst.ImportFrom) and small.module is not None:
                names_ = [] if isinstance(small.names, cst.ImportStar) else small.names
                modules = [_dotted(small.module)] + [f"{_dotted(small.module)}.{_dotted(a.name)}" for a in names_]
            else:
                continue
            if any(m == f or m.startswith(f + ".") for m in modules for f in _TEST_FRAMEWORKS):
                return True
    return False


def _is_super(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _is_literal(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString))


def _dotted(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _body(node: cst.FunctionDef) -> Iterable[cst.CSTNode]:
    body = node.body
    return body.body if isinstance(body, cst.IndentedBlock) else [body]


_EVAL = {
    cst.Name: Extractor.eval_name,
    cst.Attribute: Extractor.eval_attribute,
    cst.Call: Extractor.eval_call,
    cst.Integer: Extractor.eval_literal,
    cst.Float: Extractor.eval_literal,
    cst.SimpleString: Extractor.eval_literal,
    cst.ConcatenatedString: Extractor.eval_concat,
    cst.FormattedString: Extractor.eval_formatted,
    cst.Tuple: Extractor.eval_sequence,
    cst.List: Extractor.eval_sequence,
    cst.Set: Extractor.eval_sequence,
    cst.Dict: Extractor.eval_dict,
    cst.ListComp: Extractor.eval_comprehension,
    cst.SetComp: Extractor.eval_comprehension,
    cst.GeneratorExp: Extractor.eval_comprehension,
    cst.DictComp: Extractor.eval_comprehension,
    cst.UnaryOperation: Extractor.eval_unary,
    cst.BinaryOperation: Extractor.eval_binary,
    cst.Comparison: Extractor.eval_compare,
    cst.BooleanOperation: Extractor.eval_boolean,
    cst.IfExp: Extractor.eval_ifexp,
    cst.Subscript: Extractor.eval_subscript,
    cst.Lambda: Extractor.eval_lambda,
    cst.NamedExpr: Extractor.eval_named_expr,
    cst.Await: Extractor.eval_await,
    cst.Yield: Extractor.eval_yield,
    cst.StarredElement: Extractor.eval_inner,
}


def extract(module: cst.Module, source: str) -> KerasFile:
    """Build the Keras IR of one parsed module."""
    return Extractor(module, source).run()
