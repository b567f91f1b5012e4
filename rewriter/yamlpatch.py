"""Turn changes to the *resolved* YAML model into span edits on the original text.

A change names a mapping (with the path where it is seen), a key path under it and an action:
``set`` a value, ``append`` a sequence item, or ``replace`` a sequence item. The patcher finds the
literal node that holds the value, even when it arrives through an alias or a ``<<`` merge, and:

- edits it in place when the node is seen only at that path;
- when the node is shared (an anchor used by several services), it still plans the in-place edit,
  lists every path the edit reaches and also plans a *fallback* that overrides the key locally in
  this service, copying what it inherits, so nothing inherited is lost (YAML merges are shallow).
  Which of the two is applied is policy, decided by the engine
  (:func:`rewriter.engine.resolve_shared`: the shared edit only when every service it reaches
  wants it); the patcher only refuses what YAML cannot write here (docs/architecture.md, "Shared
  anchors").

New text is rendered (:mod:`rewriter.yamlrender`) in the style of the file
(:mod:`rewriter.yamlstyle`): indentation step, dash offset, flow or block, quote style of sibling
items, the file's newline. What the oracle expects of the fixed file is the model with the plans'
intents applied (:mod:`rewriter.yamlintents`).
"""

from __future__ import annotations

import re

from rewriter.edits import Edit, Intent, Refusal as Refusal
from rewriter.record import Record
from rewriter.yamlrender import (
    RMap,
    RScalar,
    RSeq,
    render_block_item,
    render_block_value,
    render_flow,
    render_scalar,
    to_render,
)
from rewriter.yamlstyle import Style, dash_column, detect_style
from rewriter.yamlview import (
    Entry,
    Node,
    Path,
    YamlDocument,
    anchor_of,
    is_flow,
    is_mapping,
    is_merge_key,
    is_scalar,
    is_sequence,
    item_is_alias,
    key_text,
    merge_sources,
    pair_is_alias,
    resolved_entries,
    scalar_value,
)

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from rewriter.yamlrender import RValue


# -- plans ------------------------------------------------------------------------------------


class Plan(Record):
    __slots__ = ("edits", "intents", "sites", "fallback")

    def __init__(self, edits: tuple[Edit, ...], intents: tuple[Intent, ...], sites: tuple[Path, ...],
                 fallback: Plan | None = None) -> None:
        self.edits = edits
        self.intents = intents
        self.sites = sites  # every resolved path the edit changes
        self.fallback = fallback  # a local-override plan for when the shared edit is not allowed


class Action:
    __slots__ = ("op", "value", "index", "quote_hint")

    def __init__(self, op: str, value: object, index: int = -1, quote_hint: str | None = None) -> None:
        self.op = op  # "set" | "append" | "replace"
        self.value = value
        self.index = index
        self.quote_hint = quote_hint  # quote new scalars like this (from sibling items)


class Patcher:
    def __init__(self, doc: YamlDocument, style: Style | None = None) -> None:
        self.doc = doc
        self.text = doc.text
        self._style: Style | None = style
        self._sites: dict[int, list[Path]] | None = None
        self._anchored = "&" in self.text

    @property
    def style(self) -> Style:
        if self._style is None:
            self._style = detect_style(self.doc)
        return self._style

    def sites_of(self, node: Node, default: Path) -> list[Path]:
        if not self._anchored:
            return [default]
        if self._sites is None:
            self._sites = self.doc.walk_sites()
        return self._sites.get(id(node), [default])

    # -- public operations --------------------------------------------------------------------
    def set(self, base: Path, mapping: Node, keys: tuple[str | int, ...], value: object) -> Plan:
        return self._change(base, mapping, keys, Action("set", value))

    def append(self, base: Path, mapping: Node, keys: tuple[str, ...], item: object) -> Plan:
        return self._change(base, mapping, keys, Action("append", item))

    def replace_item(self, base: Path, mapping: Node, keys: tuple[str, ...], index: int, item: object) -> Plan:
        return self._change(base, mapping, keys, Action("replace", item, index))

    def render_document(self, value: dict[str, object]) -> str:
        """A new block-style document holding ``value`` (for a file that is empty so far)."""
        rendered = to_render(value, flow=False, quote_style=self.style.quote)
        assert isinstance(rendered, RMap)
        nl = self.style.newline
        return "".join(k + ":" + render_block_value(self.style, v, 0) + nl for k, v in rendered.items)

    # -- walking ------------------------------------------------------------------------------
    def _change(self, base: Path, mapping: Node, keys: tuple[str | int, ...], action: Action) -> Plan:
        if not is_mapping(mapping):
            raise Refusal("not a mapping")
        own_sites = self.sites_of(mapping, base)
        # An alias (``one: *base``) is the same node as the value at another path; a mapping that
        # others merge (``web: &web {...}`` with ``<<: *web`` elsewhere) is still its own service.
        if len(own_sites) > 1 and sum(self._node_at(site) is mapping for site in own_sites) > 1:
            raise Refusal("this definition is an alias of another; edit the anchor it comes from")
        node, path = mapping, base
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if isinstance(key, int):
                if not is_sequence(node) or key >= len(node.value) or item_is_alias(node, key):
                    raise Refusal("list item is not an editable value")
                item = node.value[key]
                if last:
                    return self._plan_item(node, path, key, action)
                if not is_mapping(item):
                    raise Refusal("list item is not a mapping")
                node, path = item, path + (key,)
                continue
            entry = resolved_entries(node).get(key)
            if entry is None:
                return self._plan_insert(node, path, keys[i:], action, own=node is mapping)
            value_sites = self.sites_of(entry.value, path + (key,))
            shared = entry.inherited or len(value_sites) > 1
            if shared:
                direct = self._plan_direct(entry, path + (key,), keys[i + 1:], action)
                fallback = self._plan_override(node, path, entry, keys[i + 1:], action)
                if direct is None:
                    if fallback is None:
                        raise Refusal(f"'{key}' is shared with others and cannot be edited here")
                    return fallback
                return Plan(direct.edits, direct.intents, direct.sites, fallback)
            if is_scalar(entry.value) and scalar_value(entry.value) is None and entry.value.style is None \
                    and (not last or action.op == "append"):
                return self._plan_fill_null(node, entry, path + (key,), keys[i + 1:], action)
            if last:
                return self._plan_value(entry, path + (key,), action)
            if not (is_mapping(entry.value) or (is_sequence(entry.value) and isinstance(keys[i + 1], int))):
                raise Refusal(f"'{key}' is not a mapping")
            node, path = entry.value, path + (key,)
        raise Refusal("empty key path")

    def _plan_direct(self, entry: Entry, path: Path, rest: tuple[str | int, ...], action: Action) -> Plan | None:
        """The in-place edit of a shared node; None when it cannot be planned cleanly."""
        try:
            if not rest:
                return self._plan_value(entry, path, action)
            node = entry.value
            for j, key in enumerate(rest):
                if not is_mapping(node) or not isinstance(key, str):
                    return None
                sub = resolved_entries(node).get(key)
                if sub is None:
                    return self._plan_insert(node, path + rest[:j], rest[j:], action)
                if sub.inherited:
                    return None
                if j == len(rest) - 1:
                    return self._plan_value(sub, path + rest[: j + 1], action)
                node = sub.value
        except Refusal:
            return None
        return None

    # -- primitive plans --------------------------------------------------------------------
    def _plan_insert(self, mapping: Node, path: Path, keys: tuple[str | int, ...], action: Action,
                     own: bool = False) -> Plan:
        """Insert ``keys[0]`` (with any deeper keys) into ``mapping``.

        ``own``: ``mapping`` is the service's own definition, which others may merge
        (``<<: *web``); the edit then reaches only those that do not set the key themselves. A
        shared anchor's sites are every service that merges it (whether it is edited is the
        engine's decision: :func:`rewriter.engine.resolve_shared`).
        """
        value = _build_value(keys[1:], action)
        flow = is_flow(mapping)
        rvalue = self._render_new(value, flow=flow, hint=action.quote_hint if len(keys) == 1 else None)
        edit = self._insert_entry(mapping, render_scalar(keys[0], flow=flow).text, rvalue)
        sites = [site for site in self.sites_of(mapping, path)
                 if not own or site == path or self._inherits(site, mapping, str(keys[0]))]
        intents = tuple(_intent(site + keys, action) for site in sites)
        return Plan((edit,), intents, tuple(sites))

    def _plan_value(self, entry: Entry, path: Path, action: Action) -> Plan:
        value = entry.value
        if pair_is_alias(entry.key_node, value) and action.op == "set" and not is_scalar(value):
            raise Refusal(f"'{entry.key}' is an alias")
        sites = self.sites_of(value, path)
        if action.op == "set" and not is_scalar(value):
            return self._plan_replace_collection(entry, path, action, sites)
        if action.op == "set":
            if value.style in ("|", ">"):
                raise Refusal(f"'{entry.key}' is not a single value")
            if pair_is_alias(entry.key_node, value):
                raise Refusal(f"'{entry.key}' is an alias")
            force = value.style if value.style in ("'", '"') and isinstance(action.value, str) else None
            new = render_scalar(action.value, flow=self._in_flow(value), quote_style=self.style.quote,
                                force_quote=force)
            edit = Edit(value.start_mark.index, value.end_mark.index, new.text)
            return Plan((edit,), tuple(_intent(s, action) for s in sites), tuple(sites))
        if is_sequence(value):
            if pair_is_alias(entry.key_node, value):
                raise Refusal(f"'{entry.key}' is an alias")
            if action.op == "append":
                edit = self._append_item(value, action)
            else:
                edit = self._replace_item(value, action)
            return Plan((edit,), tuple(_intent(s, action) for s in sites), tuple(sites))
        if is_scalar(value) and action.op == "append" and value.style is None and not pair_is_alias(entry.key_node, value):
            # ``tmpfs: /run`` -> a sequence holding the old value and the new item.
            old = self.text[value.start_mark.index:value.end_mark.index]
            flow = True
            hint = action.quote_hint
            new_item = self._render_new(action.value, flow=flow, hint=hint)
            assert isinstance(new_item, RScalar)
            edit = Edit(value.start_mark.index, value.end_mark.index, f"[{old}, {new_item.text}]")
            if any(c in old for c in ",[]{}#"):
                raise Refusal(f"'{entry.key}' holds a value that cannot be turned into a list")
            return Plan((edit,), tuple(_intent(s, action) for s in sites), tuple(sites))
        raise Refusal(f"'{entry.key}' is not a list")

    def _plan_fill_null(self, parent: Node, entry: Entry, path: Path, rest: tuple[str | int, ...],
                        action: Action) -> Plan:
        """``key:`` (empty or null) becomes a mapping or list holding the new value."""
        value = _build_value(rest, action)
        if action.op == "append" and not rest:
            value = [action.value]
        colon = self.text.index(":", entry.key_node.end_mark.index)
        if is_flow(parent):
            rendered = " " + render_flow(to_render(value, flow=True, quote_style=self.style.quote))
            edit = Edit(colon + 1, max(colon + 1, entry.value.end_mark.index), rendered)
        else:
            rendered = render_block_value(self.style, to_render(value, flow=False, quote_style=self.style.quote),
                                          entry.key_node.start_mark.column)
            if entry.value.value == "":
                pos = self._line_end(colon)
                pos -= 1 if self.text[pos - 1:pos] == "\n" else 0
                pos -= 1 if self.text[pos - 1:pos] == "\r" else 0
                edit = Edit(pos, pos, rendered)
            else:
                edit = Edit(colon + 1, entry.value.end_mark.index, rendered)
        return Plan((edit,), (_intent(path + rest, action),), (path,))

    def _plan_item(self, seq: Node, path: Path, index: int, action: Action) -> Plan:
        item = seq.value[index]
        if not is_scalar(item) or item.style in ("|", ">"):
            raise Refusal("the list item is not a single value")
        force = item.style if item.style in ("'", '"') and isinstance(action.value, str) else None
        new = render_scalar(action.value, flow=is_flow(seq), quote_style=self.style.quote, force_quote=force)
        edit = Edit(item.start_mark.index, item.end_mark.index, new.text)
        sites = self.sites_of(item, path + (index,))
        return Plan((edit,), tuple(Intent("set", s, action.value) for s in sites), tuple(sites))

    def _plan_replace_collection(self, entry: Entry, path: Path, action: Action, sites: list[Path]) -> Plan:
        """Replace a whole mapping or list value (``nofile: {soft: 1, hard: 1}``) by a new one."""
        value = entry.value
        colon = self.text.index(":", entry.key_node.end_mark.index)
        end = self.content_end(value)
        old = self.text[colon + 1:end]
        if "#" in old or "&" in old or "*" in old:
            raise Refusal(f"'{entry.key}' has comments or anchors inside; not replacing it")
        col = entry.key_node.start_mark.column
        if is_flow(value) or self._in_flow(entry.key_node):
            rendered = " " + render_flow(to_render(action.value, flow=True, quote_style=self.style.quote))
        else:
            rendered = render_block_value(self.style, to_render(action.value, flow=False, quote_style=self.style.quote),
                                          col)
        edit = Edit(colon + 1, end, rendered)
        return Plan((edit,), tuple(_intent(s, action) for s in sites), tuple(sites))

    def _plan_override(self, node: Node, path: Path, entry: Entry, rest: tuple[str | int, ...],
                       action: Action) -> Plan | None:
        """Give this mapping its own copy of ``entry`` (inherited or aliased) with the change made.

        When the inherited value is an anchored mapping, the copy is a merge of that anchor plus
        the changed key (``<<: *env`` then ``GOMEMLIMIT: ...``), so it keeps following the anchor.
        None when ``entry`` is already this mapping's own literal pair (the mapping is the anchor
        others merge): there is nothing to copy it over.
        """
        if not entry.inherited and not pair_is_alias(entry.key_node, entry.value):
            return None
        anchor = anchor_of(entry.value, self.text)
        flow = is_flow(node)
        if is_mapping(entry.value) and isinstance(anchor, str) and len(rest) == 1 and action.op == "set":
            copy: RValue = RMap([("<<", RScalar(f"*{anchor}"))])
        else:
            copy = self._copy(entry.value)
        _apply_to_render(copy, rest, action, self, flow)
        intent = _intent(path + (entry.key,) + rest, action)
        if entry.inherited:
            edit = self._insert_entry(node, self.text[entry.key_node.start_mark.index:entry.key_node.end_mark.index], copy)
        else:
            end = self._alias_span(entry.key_node.end_mark.index)[1]
            col = entry.key_node.start_mark.column
            rendered = render_block_value(self.style, copy, col) if not flow else " " + render_flow(copy)
            # replace from the end of the key's colon to the end of the alias token
            colon = self.text.index(":", entry.key_node.end_mark.index)
            edit = Edit(colon + 1, end, rendered)
        return Plan((edit,), (intent,), (path + (entry.key,),))

    # -- where a change is seen -----------------------------------------------------------------
    def _node_at(self, path: Path) -> Node | None:
        """The node whose value the resolved model shows at ``path`` (merges expanded)."""
        node = self.doc.root
        for step in path:
            if node is None:
                return None
            if isinstance(step, int):
                node = node.value[step] if is_sequence(node) and step < len(node.value) else None
            else:
                entry = resolved_entries(node).get(step) if is_mapping(node) else None
                node = entry.value if entry is not None else None
        return node

    def _inherits(self, site: Path, source: Node, key: str) -> bool:
        """Whether a ``key`` added to ``source`` shows at ``site``, which merges it: not when the
        mapping there, or a merge that wins over ``source``, already has its own ``key``."""
        start = self._node_at(site)
        if start is None or not is_mapping(start):
            return False
        seen: set[int] = set()
        stack = [start]
        while stack:  # the order resolved_entries() gives precedence in: own keys, then merges
            node = stack.pop()
            if node is source:
                return True
            if id(node) in seen:
                continue
            seen.add(id(node))
            if any(not is_merge_key(k) and key_text(k) == key for k, _ in node.value):
                return False
            stack.extend(reversed(merge_sources(node)))
        return False

    # -- text helpers ---------------------------------------------------------------------------
    def _in_flow(self, node: Node) -> bool:
        start = node.start_mark.index
        # a scalar is in flow context when an unclosed '[' or '{' precedes it on its logical line
        line_start = self.text.rfind("\n", 0, start) + 1
        prefix = self.text[line_start:start]
        return prefix.count("[") + prefix.count("{") > prefix.count("]") + prefix.count("}")

    def _render_new(self, value: object, *, flow: bool, hint: str | None) -> RValue:
        if hint and isinstance(value, str):
            return render_scalar(value, flow=flow, quote_style=hint, force_quote=hint)
        return to_render(value, flow=flow, quote_style=self.style.quote)

    def content_end(self, node: Node) -> int:
        """Offset just after the last character that belongs to ``node``."""
        if is_scalar(node):
            end = int(node.end_mark.index)
            if node.style in ("|", ">") or node.style is None:
                while end > node.start_mark.index and self.text[end - 1] in " \t\r\n":
                    end -= 1
            return end
        if is_flow(node) or not node.value:
            return int(node.end_mark.index)
        if is_mapping(node):
            return self._last_pair_end(node)
        return self._last_item_end(node)

    def _alias_span(self, after: int) -> tuple[int, int]:
        m = re.compile(r"[\s:,\[\-]*(\*[^\s,\[\]{}]+)").match(self.text, after)
        if not m:
            raise Refusal("cannot find an alias token")
        return m.start(1), m.end(1)

    def _line_end(self, pos: int) -> int:
        nl = self.text.find("\n", pos)
        return len(self.text) if nl == -1 else nl + 1

    def _after_nested_comments(self, pos: int, col: int) -> int:
        """Past the comment lines right after ``pos`` that are indented deeper than ``col``: they
        belong to the block that ends there (a commented-out ``#  FEATURE_X: "true"`` under
        ``environment:``), and a new key inserted above them would adopt them, so that
        uncommenting the line no longer parses."""
        text = self.text
        while pos < len(text):
            end = self._line_end(pos)
            line = text[pos:end].rstrip("\r\n")
            stripped = line.lstrip(" \t")
            if not stripped.startswith("#") or len(line) - len(stripped) <= col:
                break
            pos = end
        return pos

    def _insert_entry(self, mapping: Node, key: str, value: RValue) -> Edit:
        if is_flow(mapping):
            rendered = f"{key}: {render_flow(value)}"
            if not mapping.value:
                brace = self.text.index("{", mapping.start_mark.index)
                return Edit(brace + 1, brace + 1, rendered)
            end = self._last_pair_end(mapping)
            return Edit(end, end, ", " + rendered)
        if not mapping.value:
            raise Refusal("cannot add to an empty block mapping")
        first_key = mapping.value[0][0]
        col = first_key.start_mark.column
        end = self.content_end(mapping)
        pos = self._after_nested_comments(self._line_end(end), col)
        nl = self.style.newline
        line = " " * col + key + ":" + render_block_value(self.style, value, col)
        if pos == len(self.text) and not self.text.endswith("\n"):
            return Edit(pos, pos, nl + line, order=-col)
        return Edit(pos, pos, line + nl, order=-col)

    def _append_item(self, seq: Node, action: Action) -> Edit:
        hint = action.quote_hint or _sibling_quote(seq)
        if is_flow(seq):
            rendered = render_flow(self._render_new(action.value, flow=True, hint=hint))
            if not seq.value:
                bracket = self.text.index("[", seq.start_mark.index)
                return Edit(bracket + 1, bracket + 1, rendered)
            end = self.content_end(seq)
            close = self.text.rindex("]", 0, end)
            last_end = self._last_item_end(seq)
            between = self.text[last_end:close]
            if "," in between:  # trailing comma: [a, b, ]
                return Edit(close, close, rendered + ", ")
            return Edit(last_end, last_end, ", " + rendered)
        first = seq.value[0]
        dash = dash_column(self.text, first.start_mark.index)
        if dash is None:
            raise Refusal("cannot find the list's layout")
        value = self._render_new(action.value, flow=False, hint=hint)
        line = " " * dash + "-" + render_block_item(self.style, value, dash)
        pos = self._after_nested_comments(self._line_end(self.content_end(seq)), dash)
        if pos == len(self.text) and not self.text.endswith("\n"):
            return Edit(pos, pos, self.style.newline + line, order=-dash - 1)
        return Edit(pos, pos, line + self.style.newline, order=-dash - 1)

    def _last_pair_end(self, mapping: Node) -> int:
        key, value = mapping.value[-1]
        if pair_is_alias(key, value):
            return self._alias_span(key.end_mark.index)[1]
        if is_scalar(value) and value.value == "" and value.style is None:
            return self.text.index(":", key.end_mark.index) + 1
        return self.content_end(value)

    def _last_item_end(self, seq: Node) -> int:
        last = len(seq.value) - 1
        if item_is_alias(seq, last):
            after = seq.value[last - 1].end_mark.index if last else seq.start_mark.index + 1
            return self._alias_span(after)[1]
        return self.content_end(seq.value[last])

    def _replace_item(self, seq: Node, action: Action) -> Edit:
        index = action.index
        item = seq.value[index]
        if item_is_alias(seq, index) or not is_scalar(item) or item.style in ("|", ">"):
            raise Refusal("the list item is not a single value")
        force = item.style if item.style in ("'", '"') else None
        new = render_scalar(action.value, flow=is_flow(seq), quote_style=self.style.quote, force_quote=force)
        return Edit(item.start_mark.index, item.end_mark.index, new.text)

    def _copy(self, node: Node) -> RValue:
        """A render tree of an existing node, keeping each scalar's source text (quotes and all)."""
        if is_scalar(node):
            if node.style in ("|", ">"):
                raise Refusal("cannot copy a block scalar")
            raw = self.text[node.start_mark.index:node.end_mark.index]
            raw = re.sub(r"^&\S+\s+", "", raw)
            if "\n" in raw or raw.startswith("*"):
                return render_scalar(scalar_value(node), flow=False, quote_style=self.style.quote)
            return RScalar(raw)
        if is_sequence(node):
            return RSeq([self._copy(item) for item in node.value])
        out = RMap()
        for name, entry in resolved_entries(node).items():
            key_raw = self.text[entry.key_node.start_mark.index:entry.key_node.end_mark.index]
            out.items.append((key_raw if "\n" not in key_raw else name, self._copy(entry.value)))
        return out


def _sibling_quote(seq: Node) -> str | None:
    styles = {item.style for item in seq.value if is_scalar(item)}
    if len(styles) == 1:
        style = styles.pop()
        if style in ("'", '"'):
            return str(style)
    return None


def _build_value(keys: tuple[str | int, ...], action: Action) -> object:
    if action.op == "append":
        leaf: object = [action.value]
    elif action.op == "set":
        leaf = action.value
    else:
        raise Refusal("cannot replace an item in a list that does not exist")
    for key in reversed(keys):
        leaf = {key: leaf}
    return leaf


def _intent(path: Path, action: Action) -> Intent:
    if action.op == "replace":
        return Intent("set", path + (action.index,), action.value)
    return Intent(action.op, path, action.value)


def _apply_to_render(copy: RValue, keys: tuple[str | int, ...], action: Action, patcher: Patcher, flow: bool) -> None:
    node = copy
    for j, key in enumerate(keys):
        if not isinstance(node, RMap):
            raise Refusal("cannot copy: not a mapping")
        names = [_unquote(k) for k, _ in node.items]
        if key not in names:
            node.items.append((render_scalar(key, flow=flow).text,
                               patcher._render_new(_build_value(keys[j + 1:], action), flow=flow,
                                                   hint=None)))
            return
        node = node.items[names.index(key)][1]
    if action.op == "set":
        if isinstance(node, (RMap, RSeq)):
            raise Refusal("cannot replace a collection")
        node.text = render_scalar(action.value, flow=flow, quote_style=patcher.style.quote).text
    elif action.op == "append":
        if isinstance(node, RScalar):
            raise Refusal("cannot append to a single value")
        if not isinstance(node, RSeq):
            raise Refusal("not a list")
        node.items.append(patcher._render_new(action.value, flow=flow, hint=action.quote_hint))
    else:
        if not isinstance(node, RSeq):
            raise Refusal("not a list")
        node.items[action.index] = render_scalar(action.value, flow=flow, quote_style=patcher.style.quote)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


__all__ = ["Patcher", "Plan", "Refusal"]
