"""Edits that rearrange a layer chain, in every style the IR understands: `Sequential([...])`
elements, `.add()` statements, functional applications `x = Layer()(x)`, nested calls, and layers of
subclassed models (created as `self.x = Layer()` in `__init__`, applied in `call`).

Each helper returns edits, or None when the code's shape does not allow a safe rewrite; then the
finding simply has no fix.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from kerastips.edits import Edit, call
from kerastips.ir.model import KerasFile, LayerNode, Use


def single_use(node: LayerNode) -> Optional[Use]:
    """The one place a layer enters its model (a helper inlined twice still has one place)."""
    uses = {id(use.node): use for use in node.uses}
    return next(iter(uses.values())) if len(uses) == 1 else None


def direct_pair(kfile: KerasFile, first: LayerNode, second: LayerNode) -> Optional[tuple[Use, Use]]:
    """Uses of two layers where `first` feeds only `second` and `second` reads only `first`, both
    entering the model in the same block of code (so rewriting one place is right for all)."""
    for instance in kfile.instances(first):  # the same code, in every context it runs in
        outputs = kfile.outputs_of(instance)
        following = next(iter(outputs)) if len(outputs) == 1 else None
        if following is None or following.call is not second.call or kfile.inputs_of(following) != {instance}:
            return None
    a, b = single_use(first), single_use(second)
    if a is None or b is None or a.kind != b.kind:
        return None
    if a.kind == "element":
        ok = a.container is b.container and _element_index(b) == _element_index(a) + 1
    else:
        ok = _same_block(kfile, a.statement, b.statement)
    return (a, b) if ok else None


def swap(kfile: KerasFile, first: LayerNode, second: LayerNode) -> Optional[tuple[Edit, ...]]:
    """Exchange two adjacent layers of a chain (`ReLU -> BN` becomes `BN -> ReLU`)."""
    pair = direct_pair(kfile, first, second)
    if pair is None:
        return None
    a, b = pair
    if a.kind == "element" and isinstance(a.node.comma, cst.Comma) and isinstance(b.node.comma, cst.Comma):
        # Whole elements trade places, each with the comment on its line.
        return (Edit(a.node, lambda u: b.node, a.statement), Edit(b.node, lambda u: a.node, b.statement))
    if a.kind == "add" and a.statement is not b.statement:
        # Whole statements trade places with their trailing comments; the lines above stay put.
        return (Edit(a.statement, lambda u: b.statement.with_changes(leading_lines=a.statement.leading_lines),
                     a.statement),
                Edit(b.statement, lambda u: a.statement.with_changes(leading_lines=b.statement.leading_lines),
                     b.statement))
    if a.kind in ("element", "add"):
        return (Edit(first.call, lambda u: second.call, first.statement),
                Edit(second.call, lambda u: first.call, second.statement))
    # Applications: exchange what is applied (with its keyword arguments, like training=),
    # keep what it is applied to.
    for use in (a, b):
        if any(arg.keyword is None and arg is not use.node.args[0] for arg in use.node.args):
            return None
    if first.kind.startswith("op:") and any(len(u.node.args) != 1 for u in (a, b)):
        return None  # tf.nn.relu(x) cannot take a layer's keyword arguments, nor give its own
    return (Edit(a.node, lambda u: _applied_as(u, b.node), a.statement),
            Edit(b.node, lambda u: _applied_as(u, a.node), b.statement))


def _applied_as(updated: cst.Call, other: cst.Call) -> cst.Call:
    """`updated`'s input, fed to what `other` applies, with `other`'s keyword arguments."""
    keywords = [arg for arg in other.args if arg.keyword is not None]
    inputs = [arg for arg in updated.args if arg.keyword is None][:1]
    if keywords and inputs:
        inputs = [inputs[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
        keywords[-1] = keywords[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    elif inputs:
        inputs = [inputs[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return updated.with_changes(func=other.func, args=[*inputs, *keywords])


def move_after(kfile: KerasFile, layer: LayerNode, anchor: LayerNode) -> Optional[tuple[Edit, ...]]:
    """Take `layer` out of its place in the chain and put it right after `anchor`, further down
    the same chain in the same block of code (`Dropout, BN, ReLU` -> `BN, ReLU, Dropout`). What
    moves is the code as written: its comments and arguments go with it."""
    use, target = single_use(layer), single_use(anchor)
    if use is None or target is None or use.kind != target.kind or len(kfile.inputs_of(layer)) > 1:
        return None
    if not _wired_alike(kfile, layer):
        return None
    removal = lambda u: cst.RemoveFromParent()  # noqa: E731
    if use.kind == "element":
        if use.container is not target.container:
            return None
        moved = use.node

        def insert_element(updated: cst.Element):
            if isinstance(updated.comma, cst.Comma):
                return cst.FlattenSentinel([updated, moved])
            return cst.FlattenSentinel([updated.with_changes(comma=moved.comma),
                                        moved.with_changes(comma=updated.comma)])
        return (Edit(use.node, removal, use.statement), Edit(target.node, insert_element, target.statement))
    if not _same_block(kfile, use.statement, target.statement):
        return None
    if kfile.siblings[id(target.statement)][1] < kfile.siblings[id(use.statement)][1]:
        return None  # an anchor above it: one run of a helper feeds the next, not "further down"
    if use.kind == "add":
        statement = use.statement
        return (Edit(statement, removal, statement),
                Edit(target.statement, lambda u: cst.FlattenSentinel([u, statement]), target.statement))
    inputs = [arg for arg in use.node.args if arg.keyword is None]
    if len(inputs) != 1:
        return None
    name = _assigned_name(use)
    if name is None:  # nested, or a subclassed model's call(): the application becomes its input
        keywords = [arg for arg in use.node.args if arg.keyword is not None]
        func = use.node.func
        return (Edit(use.node, lambda u: [a for a in u.args if a.keyword is None][0].value, use.statement),
                Edit(target.node, lambda u: cst.Call(func, [cst.Arg(u), *keywords]), target.statement))
    if not (isinstance(inputs[0].value, cst.Name) and inputs[0].value.value == name):
        return None  # y = Dropout(.5)(x): removing it would leave y undefined
    statement = use.statement
    if _assigned_name(target) == name:  # x = Dropout(.5)(x) moves below x = BN()(x) as written
        return (Edit(statement, removal, statement),
                Edit(target.statement, lambda u: cst.FlattenSentinel([u, statement]), target.statement))
    return (Edit(statement, removal, statement), *append_after(anchor, target, use.node.func, "moved"))


def append_after(anchor: LayerNode, use: Use, layer: cst.BaseExpression, role: str) -> tuple[Edit, ...]:
    """Insert `layer` right after `anchor` in its chain. In a subclassed model the new layer is
    created next to the anchor as `self.<anchor>_<role>` and applied where the anchor is (a layer
    that already is `self.<name>` is just applied there)."""
    if use.kind == "element":
        def add_element(updated: cst.Element):
            previous = use.container.elements[_element_index(use) - 1] if _element_index(use) else None
            comma = updated.comma if isinstance(updated.comma, cst.Comma) else (
                previous.comma if previous is not None and isinstance(previous.comma, cst.Comma)
                else cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            return cst.FlattenSentinel([updated.with_changes(comma=comma),
                                        cst.Element(layer, comma=_without_comment(updated.comma))])
        return (Edit(use.node, add_element, use.statement),)
    if use.kind == "add":
        statement = use.statement
        new = _fresh(statement.deep_replace(anchor.call, layer))
        return (Edit(statement, lambda u: cst.FlattenSentinel([u, new]), statement),)
    if _is_self_attribute(layer):
        return (Edit(use.node, lambda u: cst.Call(layer, [cst.Arg(u)]), use.statement),)
    owner = _self_attribute(anchor)
    if owner is not None:
        # A subclassed model: create the new layer next to the anchor, apply it where it is applied.
        created = anchor.statement
        new_attr = cst.Attribute(cst.Name("self"), cst.Name(f"{owner}_{role}"))
        declaration = _fresh(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(new_attr)], layer)]))
        return (Edit(created, lambda u: cst.FlattenSentinel([u, declaration]), created),
                Edit(use.node, lambda u: cst.Call(new_attr, [cst.Arg(u)]), use.statement))
    target = _assigned_name(use)
    if target is not None:
        new = _fresh(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(target))],
                                                         cst.Call(layer, [cst.Arg(cst.Name(target))]))]))
        return (Edit(use.statement, lambda u: cst.FlattenSentinel([u, new]), use.statement),)
    return (Edit(use.node, lambda u: cst.Call(layer, [cst.Arg(u)]), use.statement),)


def sibling_callee(kfile: KerasFile, reference: LayerNode, name: str) -> tuple[cst.BaseExpression, tuple]:
    """How to spell the Keras layer class `name` the way the file spells `reference`'s class:
    `layers.BatchNormalization` -> `layers.Activation`; an imported name -> an import of `name`."""
    func = reference.call.func
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(name)), ()
    for local, imported in kfile.imports.items():
        if imported.rsplit(".", 1)[-1] == name and ".layers" in imported:
            return cst.Name(local), ()
    imported = kfile.imports.get(func.value) if isinstance(func, cst.Name) else None
    if imported and ".layers" in imported:
        module = imported[: imported.index(".layers") + len(".layers")]
        return cst.Name(name), ((module, name),)
    return cst.Name(name), ()  # an import-less snippet stays import-less


def layer_call(kfile: KerasFile, reference: LayerNode, name: str, *args: cst.BaseExpression):
    callee, imports = sibling_callee(kfile, reference, name)
    return call(callee, *args), imports


def _without_comment(comma):
    """A copy of an element's comma for a new element: same line breaks, not the comment."""
    if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
        first = comma.whitespace_after.first_line
        return comma.with_changes(whitespace_after=comma.whitespace_after.with_changes(
            first_line=first.with_changes(comment=None, whitespace=cst.SimpleWhitespace(""))))
    return comma


def _wired_alike(kfile: KerasFile, node: LayerNode) -> bool:
    """Whether every run of the code making `node` feeds the same code (a helper called twice)."""
    shape = {id(o.call) for o in kfile.outputs_of(node)}
    return all({id(o.call) for o in kfile.outputs_of(i)} == shape for i in kfile.instances(node))


def _element_index(use: Use) -> int:
    return next(i for i, element in enumerate(use.container.elements) if element is use.node)


def _same_block(kfile: KerasFile, first, second) -> bool:
    a, b = kfile.siblings.get(id(first)), kfile.siblings.get(id(second))
    return a is not None and b is not None and a[0] is b[0]


def _fresh(statement: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """A copy of a statement to insert: no comments or blank lines carried over."""
    return statement.with_changes(leading_lines=(), trailing_whitespace=cst.TrailingWhitespace())


def _is_self_attribute(expression: cst.BaseExpression) -> bool:
    return isinstance(expression, cst.Attribute) and isinstance(expression.value, cst.Name) and \
        expression.value.value == "self"


def _self_attribute(node: LayerNode) -> Optional[str]:
    """`bn` when the layer is created as `self.bn = ...` (a subclassed model's layer)."""
    statement = node.statement
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Assign) and small.value is node.call and len(small.targets) == 1:
            target = small.targets[0].target
            if _is_self_attribute(target):
                return target.attr.value
    return None


def _assigned_name(use: Use) -> Optional[str]:
    """`x` when the application is the whole statement `x = layer(...)`."""
    statement = use.statement
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        small = statement.body[0]
        if isinstance(small, cst.Assign) and small.value is use.node and len(small.targets) == 1 \
                and isinstance(small.targets[0].target, cst.Name):
            return small.targets[0].target.value
    return None


def insert_before(kfile: KerasFile, layer: LayerNode, new: cst.BaseExpression, role: str) -> Optional[tuple[Edit, ...]]:
    """Insert the layer `new` right before `layer` in its chain (`Conv, Pool, Dense` -> `Conv,
    Pool, Flatten, Dense`): a list element before its element, a `model.add(new)` statement
    before its `.add`, `layer(new(x))` where it is applied. In a subclassed model the new layer
    is created above `layer` as `self.<layer>_<role>` and applied to its input in `call`."""
    use = single_use(layer)
    if use is None or not _wired_alike(kfile, layer):
        return None
    if use.kind == "element":
        index = _element_index(use)
        if index == 0:
            return None
        previous = use.container.elements[index - 1]
        comma = _without_comment(previous.comma) if isinstance(previous.comma, cst.Comma) else \
            cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        element = cst.Element(new, comma=comma)
        return (Edit(use.node, lambda u: cst.FlattenSentinel([element, u]), use.statement),)
    if use.kind == "add":
        statement = use.statement
        if not _single_statement(statement) or not use.node.args or use.node.args[0].value is not layer.call:
            return None
        added = _fresh(statement.deep_replace(layer.call, new))
        return (Edit(statement, lambda u: cst.FlattenSentinel([
            added.with_changes(leading_lines=u.leading_lines), u.with_changes(leading_lines=())]), statement),)
    inputs = _input_argument(use.node)
    if inputs is None:
        return None
    owner = _self_attribute(layer)
    if owner is not None and use.node.func is not layer.call:
        # A subclassed model: `self.fc = Dense(...)` in __init__, `self.fc(x)` in call().
        created = layer.statement
        attribute = cst.Attribute(cst.Name("self"), cst.Name(f"{owner}_{role}"))
        declaration = _fresh(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(attribute)], new)]))
        return (Edit(created, lambda u: cst.FlattenSentinel([
                    declaration.with_changes(leading_lines=u.leading_lines), u.with_changes(leading_lines=())]),
                     created),
                Edit(use.node, lambda u: _wrap_input(u, attribute), use.statement))
    return (Edit(use.node, lambda u: _wrap_input(u, new), use.statement),)


def remove_layer(kfile: KerasFile, layer: LayerNode) -> Optional[tuple[Edit, ...]]:
    """Take `layer` out of its chain, its input flowing straight to what it fed: its list element,
    its `.add` statement, or its application (`y = act(x)` becomes `y = x`; `x = act(x)` goes)."""
    use = single_use(layer)
    if use is None or not _wired_alike(kfile, layer):
        return None
    if any(len(kfile.inputs_of(instance)) != 1 for instance in kfile.instances(layer)):
        return None
    if use.kind == "element":
        return _remove_element(use)
    if use.kind == "add":
        if not _single_statement(use.statement) or not use.node.args or use.node.args[0].value is not layer.call:
            return None
        return _remove_statement(kfile, use.statement)
    inputs = _input_argument(use.node)
    if inputs is None or any(arg is not inputs and arg.keyword is None for arg in use.node.args):
        return None
    if _assigned_name(use) is not None and isinstance(inputs.value, cst.Name) \
            and inputs.value.value == _assigned_name(use):
        edits = _remove_statement(kfile, use.statement)  # x = ReLU()(x): the statement goes
    else:
        edits = (Edit(use.node, lambda u: _input_argument(u).value, use.statement),)
    owner = _self_attribute(layer)
    if edits and owner is not None and use.node.func is not layer.call and \
            len(re.findall(rf"\bself\.{owner}\b", kfile.module.code)) == 2:
        edits = (*edits, *(_remove_statement(kfile, layer.statement) or ()))  # its creation, unused now
    return edits


def _remove_element(use: Use) -> Optional[tuple[Edit, ...]]:
    elements = use.container.elements
    index = _element_index(use)
    if index < len(elements) - 1 or index == 0:
        return (Edit(use.node, lambda u: cst.RemoveFromParent(), use.statement),)
    # The last element: the one before it now ends the list, and takes over the line break
    # before the closing bracket (keeping the comment on its own line).
    def rewrite(updated):
        items = list(updated.elements)
        previous, removed = items[-2], items[-1]
        before = previous.comma.whitespace_after if isinstance(previous.comma, cst.Comma) else None
        after = removed.comma.whitespace_after if isinstance(removed.comma, cst.Comma) else None
        bracket = _closing(updated)
        closing = after if isinstance(after, cst.ParenthesizedWhitespace) else bracket.whitespace_before
        changes = {}
        if not isinstance(before, cst.ParenthesizedWhitespace):  # all on one line
            comma = removed.comma
        elif before.first_line.comment is None and not isinstance(removed.comma, cst.Comma):
            comma = cst.MaybeSentinel.DEFAULT  # no trailing comma before, none after
        elif isinstance(closing, cst.ParenthesizedWhitespace):
            comma = previous.comma.with_changes(whitespace_after=before.with_changes(
                empty_lines=(), indent=closing.indent, last_line=closing.last_line))
            if closing is bracket.whitespace_before:
                bracket = bracket.with_changes(whitespace_before=cst.SimpleWhitespace(""))
                changes = {"rbracket": bracket} if isinstance(updated, cst.List) else \
                    {"rpar": [*updated.rpar[:-1], bracket]}
        else:
            comma = cst.MaybeSentinel.DEFAULT if before.first_line.comment is None else previous.comma
        items[-2:] = [previous.with_changes(comma=comma)]
        return updated.with_changes(elements=items, **changes)
    return (Edit(use.container, rewrite, use.statement),)


def _closing(container):
    if isinstance(container, cst.List):
        return container.rbracket
    return container.rpar[-1] if container.rpar else cst.RightParen(whitespace_before=cst.SimpleWhitespace(""))


def _remove_statement(kfile: KerasFile, statement) -> Optional[tuple[Edit, ...]]:
    """Remove a statement; comments above it stay, on the statement that follows."""
    if not _single_statement(statement):
        return None
    place = kfile.siblings.get(id(statement))
    if place is None:
        return None
    block, index = place
    edits = [Edit(statement, lambda u: cst.RemoveFromParent(), statement)]
    kept = [line for line in statement.leading_lines if line.comment is not None]
    if kept:
        if index + 1 >= len(block):
            return None
        following = block[index + 1]
        edits.append(Edit(following, lambda u: u.with_changes(leading_lines=[*statement.leading_lines,
                                                                            *u.leading_lines]), following))
    elif index + 1 >= len(block) and index == 0:
        return None  # the block would be empty
    return tuple(edits)


def _single_statement(statement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1


def _input_argument(application: cst.Call) -> Optional[cst.Arg]:
    """The argument carrying the input tensor of `layer(x)` / `tf.nn.relu(x)` (`inputs=`/`x=`)."""
    for arg in application.args:
        if arg.star:
            return None
        if arg.keyword is None or arg.keyword.value in ("inputs", "x", "features"):
            return arg
    return None


def _wrap_input(application: cst.Call, layer: cst.BaseExpression) -> cst.Call:
    """`f(x, ...)` -> `f(layer(x), ...)`."""
    inputs = _input_argument(application)
    return application.with_changes(args=[
        arg.with_changes(value=cst.Call(layer, [cst.Arg(arg.value)])) if arg is inputs else arg
        for arg in application.args
    ])
