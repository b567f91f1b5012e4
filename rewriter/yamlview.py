"""A read-only view of a YAML document for finding spans, plus its resolved model.

A YAML composer (libyaml through PyYAML, or ruamel.yaml) gives nodes with exact character
offsets. Nothing here ever dumps YAML: the nodes are used to find where things are, and :func:`resolve` builds the plain model
(aliases and ``<<`` merge keys expanded) that the oracle compares before and after a fix.

An alias in the node graph *is* the anchored node, so its marks point at the anchor's
definition; :func:`pair_is_alias` tells an alias use from the definition by position.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterator

from rewriter.errors import ParseError
from rewriter.record import Record
from rewriter.source import SourceFile

TYPE_CHECKING = False  # typing is imported for mypy only: it costs ~4 ms at every start
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any, TypeAlias

    Node: TypeAlias = Any  # a yaml node (ScalarNode, SequenceNode, MappingNode); library edge
else:
    Node = object
Path = tuple[str | int, ...]

MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_RESOLVED_NODES = 2_000_000  # alias-bomb guard for model resolution

_DIGITS = "0123456789"
_NUMBER_START = frozenset("+-.0123456789")  # how every int and float begins
_SPECIAL_FLOATS = frozenset(sign + inf for sign in ("", "+", "-") for inf in (".inf", ".Inf", ".INF")) | {
    ".nan", ".NaN", ".NAN"}
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}


def is_mapping(node: Node) -> bool:
    return node is not None and node.id == "mapping"


def is_sequence(node: Node) -> bool:
    return node is not None and node.id == "sequence"


def is_scalar(node: Node) -> bool:
    return node is not None and node.id == "scalar"


def is_merge_key(key: Node) -> bool:
    return is_scalar(key) and (key.tag == MERGE_TAG or (key.value == "<<" and key.style is None))


def is_flow(node: Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def scalar_value(node: Node) -> object:
    """The value of a scalar under the YAML 1.2 core schema (what Compose's loader sees)."""
    text: str = node.value
    if node.style is not None:  # quoted or block scalar: always a string
        return text
    if node.tag not in (None, "tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
                        "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                        "tag:yaml.org,2002:null", MERGE_TAG):
        explicit = str(node.tag)
        if explicit.startswith("tag:yaml.org,2002:str") or explicit == "!!str":
            return text
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if text[:1] not in _NUMBER_START:  # most scalars: words, paths, images
        return text
    if _is_int(text):
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    if _is_float(text):
        try:
            return float(text.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                         .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))
        except ValueError:
            return text
    return text


# The YAML 1.2 core schema's int and float, ``^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$`` and
# ``^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$``
# (``$`` also before a final newline), read with string methods: compiling the two patterns cost
# 2.5 M instructions of a 140 M cold start, and every file with a number needs them.
# tests/test_yaml_backends.py holds both to the patterns.


def _only(text: str, chars: str) -> bool:
    """``text`` is one or more of ``chars``."""
    return text != "" and text.strip(chars) == ""


def _is_int(text: str) -> bool:
    if text[:1] not in _NUMBER_START or text[0] == ".":
        return False
    text = text[:-1] if text.endswith("\n") else text
    if text.startswith(("0o", "0x")):
        return _only(text[2:], "01234567" if text[1] == "o" else "0123456789abcdefABCDEF")
    return _only(text[1:] if text[0] in "+-" else text, _DIGITS)


def _is_float(text: str) -> bool:
    if text[:1] not in _NUMBER_START:
        return False
    text = text[:-1] if text.endswith("\n") else text
    if text.strip("0123456789.+-eE"):  # holds a character no decimal float has
        return text in _SPECIAL_FLOATS
    body = text[1:] if text[:1] in ("+", "-") else text
    e, big = body.find("e"), body.find("E")
    cut = e if big < 0 or 0 <= e < big else big  # the first of them
    mantissa, exponent = (body, None) if cut < 0 else (body[:cut], body[cut + 1:])
    if exponent is not None and not _only(exponent[1:] if exponent[:1] in ("+", "-") else exponent, _DIGITS):
        return False
    whole, dot, fraction = mantissa.partition(".")
    if whole == "":
        return dot == "." and _only(fraction, _DIGITS)
    return _only(whole, _DIGITS) and fraction.strip(_DIGITS) == ""


def scalar_text(node: Node) -> str:
    """The string a scalar holds, whatever its resolved type (``65536`` -> ``'65536'``)."""
    return str(node.value)


def key_text(key: Node) -> str:
    return str(key.value) if is_scalar(key) else f"<{key.id}>"


def pair_is_alias(key: Node, value: Node) -> bool:
    """True when ``value`` in ``key: value`` is an alias (its node was defined earlier)."""
    return bool(value.start_mark.index < key.end_mark.index)


def item_is_alias(seq: Node, index: int) -> bool:
    item = seq.value[index]
    if item.start_mark.index < seq.start_mark.index:
        return True
    if index and item.start_mark.index < seq.value[index - 1].end_mark.index:
        return True
    return bool(item.start_mark.index <= seq.start_mark.index and index == 0 and is_flow(seq))


class Entry(Record):
    """One resolved mapping entry: where its literal ``key: value`` pair lives."""

    __slots__ = ("key", "key_node", "value", "owner", "inherited")

    def __init__(self, key: str, key_node: Node, value: Node, owner: Node, inherited: bool) -> None:
        self.key = key
        self.key_node = key_node
        self.value = value
        self.owner = owner  # the mapping node whose literal pair this is
        self.inherited = inherited  # came in through a ``<<`` merge


def merge_sources(mapping: Node) -> list[Node]:
    """The mappings merged into ``mapping`` by ``<<`` keys, in precedence order."""
    out: list[Node] = []
    for key, value in mapping.value:
        if not is_merge_key(key):
            continue
        if is_mapping(value):
            out.append(value)
        elif is_sequence(value):
            out.extend(v for v in value.value if is_mapping(v))
    return out


class _EntriesMemo:
    """resolved_entries() results for the nodes of the documents parsed last.

    Composed nodes are not changed after parsing, so a mapping's entries are computed once.
    Keyed by ``id`` with the node kept alongside (an id can be reused once a node is freed);
    cleared when it grows past a bound, so long runs do not hold on to old documents."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self.table: dict[int, tuple[Node, dict[str, Entry]]] = {}

    def get(self, node: Node) -> dict[str, Entry] | None:
        hit = self.table.get(id(node))
        return hit[1] if hit is not None and hit[0] is node else None

    def put(self, node: Node, entries: dict[str, Entry]) -> None:
        if len(self.table) >= self.LIMIT:
            self.table.clear()
        self.table[id(node)] = (node, entries)


_MEMO = _EntriesMemo()


def resolved_entries(mapping: Node) -> dict[str, Entry]:
    """Entries of a mapping with merges expanded: local keys win, then merges in order.
    The result is shared: callers must not change it.

    The merge graph is walked depth-first and each merged mapping is visited once: a mapping
    reached a second time can add no key the first visit did not already consider, so this is
    the same result as the naive recursion, in time linear in the merge graph instead of
    exponential (a "merge bomb" of mappings merging the same anchors over and over).
    """
    known = _MEMO.get(mapping)
    if known is not None:
        return known
    out: dict[str, Entry] = {}
    done: set[int] = set()
    active: list[int] = []

    def collect(node: Node, inherited: bool) -> None:
        if id(node) in done:
            return
        if id(node) in active:
            raise ParseError("a merge key ('<<') refers to its own mapping",
                             line=node.start_mark.line + 1, column=node.start_mark.column + 1)
        if len(active) > 64:
            raise ParseError("merge keys nest too deeply", line=node.start_mark.line + 1,
                             column=node.start_mark.column + 1)
        active.append(id(node))
        for key, value in node.value:
            if is_merge_key(key):
                continue
            name = key_text(key)
            if name not in out:
                out[name] = Entry(name, key, value, node, inherited)
        for source in merge_sources(node):
            collect(source, True)
        active.pop()
        done.add(id(node))

    collect(mapping, False)
    _MEMO.put(mapping, out)
    return out


def walk(node: Node, keys: tuple[str | int, ...]) -> tuple[Node, list[Entry]] | None:
    """The node at ``keys`` (mapping keys with merge keys resolved, sequence indexes) and the
    mapping entries passed on the way, or None where a key or index is missing."""
    entries: list[Entry] = []
    for key in keys:
        if isinstance(key, int):
            if not is_sequence(node) or key >= len(node.value):
                return None
            node = node.value[key]
            continue
        if not is_mapping(node):
            return None
        entry = resolved_entries(node).get(key)
        if entry is None:
            return None
        entries.append(entry)
        node = entry.value
    return node, entries


def expanded_size(root: Node, limit: int = MAX_RESOLVED_NODES) -> int:
    """The number of nodes in the resolved model of ``root`` (aliases and merges expanded),
    computed with each shared node counted once per use but *walked* once, so an alias bomb
    (billion laughs) is measured in time linear in its text. Raises ParseError over ``limit``."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in active or depth > 512:
            raise ParseError("input nests too deeply (or an alias refers to its own node)",
                             line=node.start_mark.line + 1, column=node.start_mark.column + 1)
        active.add(id(node))
        total = 1
        if is_mapping(node):
            for entry in resolved_entries(node).values():
                total += size(entry.value, depth + 1)
                if total > limit:
                    break
        elif is_sequence(node):
            for item in node.value:
                total += size(item, depth + 1)
                if total > limit:
                    break
        active.discard(id(node))
        if total > limit:
            raise ParseError(f"document expands to more than {limit} nodes through its aliases "
                             "(alias bomb?)", line=node.start_mark.line + 1,
                             column=node.start_mark.column + 1)
        sizes[id(node)] = total
        return total

    return 0 if root is None else size(root, 0)


def resolve(node: Node) -> object:
    """The plain model of a node: dicts, lists and core-schema scalars, merges expanded."""
    budget = [MAX_RESOLVED_NODES]
    return _resolve(node, budget, 0)


def _resolve(node: Node, budget: list[int], depth: int) -> object:
    budget[0] -= 1
    if budget[0] < 0 or depth > 512:
        raise ParseError("document expands to too many nodes (alias bomb?)",
                         line=node.start_mark.line + 1, column=node.start_mark.column + 1)
    if node is None:
        return None
    if is_scalar(node):
        return scalar_value(node)
    if is_sequence(node):
        return [_resolve(v, budget, depth + 1) for v in node.value]
    result: dict[object, object] = {}
    for name, entry in resolved_entries(node).items():
        result[name] = _resolve(entry.value, budget, depth + 1)
    return result


class YamlDocument:
    __slots__ = ("src", "root")

    def __init__(self, src: SourceFile, root: Node) -> None:
        self.src = src
        self.root = root  # None for an empty document

    @property
    def text(self) -> str:
        return self.src.text

    def position(self, offset: int) -> tuple[int, int]:
        return self.src.position(offset)

    def model(self) -> object:
        return None if self.root is None else resolve(self.root)

    def walk_sites(self) -> dict[int, list[Path]]:
        """For every mapping node, the paths where its entries become visible (direct or merged).

        Sequence and scalar nodes are listed at the paths where they are values.
        """
        sites: dict[int, list[Path]] = {}
        budget = [MAX_RESOLVED_NODES]

        def visit(node: Node, path: Path) -> None:
            budget[0] -= 1
            if budget[0] < 0:
                raise ParseError("document expands to too many nodes (alias bomb?)", line=1, column=1)
            sites.setdefault(id(node), []).append(path)
            if is_mapping(node):
                for source in _all_merged(node):
                    sites.setdefault(id(source), []).append(path)
                for name, entry in resolved_entries(node).items():
                    visit(entry.value, path + (name,))
            elif is_sequence(node):
                for i, item in enumerate(node.value):
                    visit(item, path + (i,))

        if self.root is not None:
            visit(self.root, ())
        return sites


def _all_merged(mapping: Node) -> Iterator[Node]:
    """Every mapping merged into ``mapping``, directly or through other merges, once each."""
    seen: set[int] = set()
    stack = list(reversed(merge_sources(mapping)))
    while stack:
        source = stack.pop()
        if id(source) in seen:
            continue
        seen.add(id(source))
        yield source
        stack.extend(reversed(merge_sources(source)))


BACKENDS = ("libyaml", "ruamel")


def backend() -> str:
    """The parser in use: libyaml through PyYAML's C loader when it is there (about 30 times
    faster and cheaper to import), else ruamel.yaml. ``DOCKFIX_YAML_BACKEND`` forces one; the
    test suite runs both and requires the same results."""
    import os  # lazy: start-up

    wanted = os.environ.get("DOCKFIX_YAML_BACKEND", "")
    if wanted == "ruamel":
        return "ruamel"
    try:
        if getattr(_import_pyyaml(), "__with_libyaml__", False):
            return "libyaml"
    except ImportError:
        pass
    if wanted == "libyaml":
        raise ParseError("DOCKFIX_YAML_BACKEND=libyaml, but PyYAML with libyaml is not installed")
    return "ruamel"


class _LazyPattern:
    """A regular expression compiled when it is first used: an attribute it does not have yet
    (``match``, ``search``, ...) compiles the pattern and is then kept on the instance, so later
    uses cost no more than the compiled pattern's own."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> object:
        value = getattr(_RE_COMPILE(*self._args), name)
        setattr(self, name, value)
        return value


_RE_COMPILE = re.compile


def _import_pyyaml() -> ModuleType:
    """``import yaml``, with the regular expressions its modules compile at import time compiled
    on first use instead.

    Importing PyYAML compiles 13 of them, and they are most of its import's cost (about 5 of
    12 ms): ``yaml.reader``'s check for unprintable characters alone (a class over all of
    Unicode, 3.5 ms) serves only the pure-Python reader, which the C loader does not use; the
    resolver's patterns for numbers and timestamps serve only plain scalars that start like one.
    ``re.compile`` is swapped only while PyYAML's modules run, before anything of PyYAML exists,
    and only while no other thread runs (one could compile a pattern of its own meanwhile).
    """
    threading = sys.modules.get("threading")
    if "yaml" in sys.modules or (threading is not None and threading.active_count() > 1):
        import yaml  # lazy: start-up
    else:
        re.compile = _LazyPattern  # type: ignore[assignment]
        try:
            import yaml  # lazy: start-up
        finally:
            re.compile = _RE_COMPILE
    return sys.modules["yaml"]


def _compose_all(src: SourceFile) -> list[Node]:
    """All documents' root nodes; a syntax error becomes a ParseError with its location."""
    if backend() == "libyaml":
        yaml = _import_pyyaml()
        try:
            docs = list(yaml.compose_all(src.text, Loader=yaml.CSafeLoader))
        except yaml.YAMLError as err:
            raise _parse_error(src, err) from None
        _plain_style_is_none(docs)
        return docs
    from ruamel.yaml import YAML  # lazy: start-up
    from ruamel.yaml.error import YAMLError  # lazy: start-up

    try:
        return list(YAML(typ="rt", pure=True).compose_all(src.text))
    except YAMLError as err:
        raise _parse_error(src, err) from None


def _plain_style_is_none(docs: list[Node]) -> None:
    """libyaml marks a plain scalar with style '' where ruamel (and pure PyYAML) use None."""
    seen: set[int] = set()
    stack = [d for d in docs if d is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.id == "scalar":
            if node.style == "":
                node.style = None
        elif node.id == "sequence":
            stack.extend(node.value)
        else:
            for key, value in node.value:
                stack.append(key)
                stack.append(value)


_UNCLOSED = {"while parsing a flow sequence": "'['", "while parsing a flow mapping": "'{'",
             "while scanning a quoted scalar": "quote"}


def _parse_error(src: SourceFile, err: Exception) -> ParseError:
    """The parser's message, marked where the mistake is: for an unclosed ``[``, ``{`` or quote
    that is where it opens (the parser's context mark), not where the parser noticed (lines
    below, at the next key)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or getattr(err, "context", None) or str(err) or "invalid YAML"
    opened = _UNCLOSED.get(str(getattr(err, "context", "")))
    start = getattr(err, "context_mark", None)
    if opened and start is not None and mark is not None and (start.line, start.column) < (mark.line, mark.column):
        problem = (f"{problem}: the {opened} opened here is not closed (noticed at line {mark.line + 1}, "
                   f"column {mark.column + 1})")
        mark = start
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return ParseError(f"invalid YAML: {problem}", path=src.path, line=line, column=column)


def anchor_of(node: Node, text: str) -> str | None:
    """The anchor name a node was defined with (``&defaults``), or None.

    ruamel keeps it on the node; libyaml's nodes do not, but an anchored node's start mark is at
    its ``&`` in both, so the text says."""
    name = getattr(node, "anchor", None)
    if isinstance(name, str):
        return name
    start = node.start_mark.index
    if text.startswith("&", start):
        m = _ANCHOR_RE().match(text, start)
        if m:
            return m.group(1)
    return None


_ANCHOR_RE = functools.cache(lambda: re.compile(r"&([^\s,\[\]{}]+)"))  # documents with anchors only


# Composed nodes cost about 0.7 KB each (two marks per node) before dockfix looks at them, and a
# 9.8 MB Compose file of small services exhausted 6 GB. Lines plus commas bound the node count
# from above (a node starts a line or follows a flow comma, bar a few per line), and are counted
# before composing anything. The cap applies to the files dockfix is given, not to the texts its
# own fixes make from them (a fixed file is longer, and within a constant factor).
MAX_YAML_LINES = 250_000


def check_yaml_size(src: SourceFile) -> None:
    """Refuse a YAML input over :data:`MAX_YAML_LINES` (ParseError)."""
    size = src.text.count("\n") + src.text.count(",")
    if size > MAX_YAML_LINES:
        raise ParseError(f"too large to check: {size} lines and flow items (the limit is {MAX_YAML_LINES} per "
                         f"file, which bounds the memory a file takes)", path=src.path, line=1, column=1)


def parse_yaml(src: SourceFile) -> YamlDocument:
    """Compose a single-document YAML file into nodes, or raise ParseError with a location."""
    try:
        docs = _compose_all(src)
    except RecursionError:
        raise ParseError("invalid YAML: nesting too deep", path=src.path, line=1, column=1) from None
    if len(docs) > 1:
        second = docs[1]
        line, column = (second.start_mark.line + 1, 1) if second is not None else (1, 1)
        raise ParseError("multi-document YAML is not a Compose file (found a second '---' document)",
                         path=src.path, line=line, column=column)
    return _checked(src, docs[0] if docs else None)


def parse_yaml_all(src: SourceFile) -> list[YamlDocument]:
    """Every document of a multi-document stream (``---``), each checked like
    :func:`parse_yaml`'s one; an empty document (only comments) has a None root. The nodes'
    offsets are into the whole text, so each document is edited in place."""
    try:
        docs = _compose_all(src)
    except RecursionError:
        raise ParseError("invalid YAML: nesting too deep", path=src.path, line=1, column=1) from None
    return [_checked(src, root) for root in docs]


def _checked(src: SourceFile, root: Node) -> YamlDocument:
    if root is not None:
        _check_duplicate_keys(src, root)
        try:
            expanded_size(root)
        except ParseError as err:
            err.path = src.path
            raise
    return YamlDocument(src, root)


def _check_duplicate_keys(src: SourceFile, root: Node) -> None:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if is_mapping(node):
            keys: dict[str, Node] = {}
            for key, value in node.value:
                if is_scalar(key) and not is_merge_key(key):
                    name = key_text(key)
                    if name in keys:
                        raise ParseError(
                            f"duplicate key '{name}' (first at line {keys[name].start_mark.line + 1})",
                            path=src.path, line=key.start_mark.line + 1, column=key.start_mark.column + 1)
                    keys[name] = key
                stack.append(value)
        elif is_sequence(node):
            stack.extend(node.value)
