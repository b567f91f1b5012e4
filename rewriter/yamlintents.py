"""Intents applied to a resolved model: what the oracle expects the fixed file to read as.

A fix carries, besides its span edits, the changes it means to the resolved model (``set``,
``append`` or ``delete`` at a path); the engine applies them to the model of the text before and
compares the result with the model of the fixed text (:func:`rewriter.engine.verify`).
"""

from __future__ import annotations

from rewriter.edits import Intent


def apply_intents(model: object, intents: tuple[Intent, ...] | list[Intent]) -> object:
    """Apply intents to a resolved model (a deep copy is made): what the oracle expects."""
    result = _tree_copy(model)
    for intent in intents:
        result = _apply_intent(result, intent)
    return result


def _tree_copy(value: object) -> object:
    """A copy of a model: a tree of dicts and lists (no shared parts) with immutable scalars."""
    if isinstance(value, dict):
        return {key: _tree_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tree_copy(item) for item in value]
    return value


def _apply_intent(model: object, intent: Intent) -> object:
    if not intent.path:
        return intent.value
    root = model if model is not None else {}
    node = root
    for step in intent.path[:-1]:
        if isinstance(node, dict):
            if node.get(step) is None:
                node[step] = {}
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int):
            node = node[step]
        else:
            raise ValueError(f"intent path {intent.path} crosses a scalar")
    last = intent.path[-1]
    if intent.op == "set":
        if isinstance(node, dict):
            node[last] = intent.value
        elif isinstance(node, list) and isinstance(last, int):
            node[last] = intent.value
        else:
            raise ValueError(f"intent path {intent.path} crosses a scalar")
    elif intent.op == "append":
        assert isinstance(node, dict)
        current = node.get(last)
        if current is None:
            node[last] = [intent.value]
        elif isinstance(current, list):
            current.append(intent.value)
        else:
            node[last] = [current, intent.value]
    elif intent.op == "delete":
        if isinstance(node, dict):
            node.pop(last, None)
        elif isinstance(node, list) and isinstance(last, int):
            del node[last]
    return root
