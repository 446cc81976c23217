"""The one strict YAML reader of lfpk: configuration files and YAML population maps.

PyYAML's ``safe_load`` accepts two things that turn a typo or a hostile file into wrong results or
minutes of work:

* a key given twice in one mapping (``simulation:`` twice) silently keeps the last value: refused
  here, naming the file, the line and the key (and where it first appeared);
* aliases (``*name``) share one object however often they are used, so a 1 kB file of nested
  aliases ("billion laughs") loads at once but stands for hundreds of millions of values, which
  every later step (merging, validation, copies) walks one by one: refused here, before anything
  walks it, when the aliases expand the document by more than :data:`MAX_ALIAS_NODES` nodes.

Aliases and merge keys (``<<: *base``) used in moderation keep working.
"""

from __future__ import annotations

from pathlib import Path

import yaml

#: Largest number of nodes aliases may add to a document when expanded (a node is one scalar,
#: list or mapping). The laptop study's configuration has about 900 nodes; a YAML population map
#: lists ranges, not units; a million leaves room for generous use of anchors while a
#: "billion laughs" file (9 levels of 9 aliases: 4e8 nodes) is refused without being walked.
MAX_ALIAS_NODES = 1_000_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


class YAMLFileError(ValueError):
    """A YAML file (or text) that is not valid YAML, repeats a key or expands its aliases too far;
    the message names the file and, where known, the line."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` refusing duplicate keys (construction) and alias bombs (composition)."""

    source = "<text>"

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    if key in first:
                        raise YAMLFileError(
                            f"{self.source}, line {line}: key {key!r} appears twice in one mapping (first at "
                            f"line {first[key]}); expected each key once (YAML would silently keep the last)")
                    first[key] = line
                except TypeError:  # an unhashable key: SafeConstructor reports it
                    continue
        return super().construct_mapping(node, deep=deep)


def _expanded_nodes(root, source) -> tuple[int, int]:
    """(nodes as written, nodes once every alias is expanded) of a composed document, in time
    proportional to the nodes as written (each node's expanded size is computed once)."""
    size = {}
    open_nodes = set()  # ids of the collections on the current path (an alias to one is a cycle)
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        if isinstance(node, yaml.ScalarNode):
            size[id(node)] = 1
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if done:
            size[id(node)] = 1 + sum(size[id(c)] for c in children)
            open_nodes.discard(id(node))
            continue
        if id(node) in open_nodes:
            raise YAMLFileError(f"{source}, line {node.start_mark.line + 1}: an alias refers to a collection that "
                                "contains it (a recursive alias); expected plain mappings and lists")
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    return len(size), size[id(root)]


def load_yaml(text, source="<text>"):
    """Parse YAML ``text`` strictly (see the module docstring); ``source`` names it in messages.

    Returns
    -------
    object
        What ``yaml.safe_load`` would return (None for an empty document).

    Raises
    ------
    YAMLFileError
        Not valid YAML, a key twice in one mapping, or aliases expanding by more than
        :data:`MAX_ALIAS_NODES` nodes; the message starts with ``source``.
    """
    loader = _StrictLoader(text)
    loader.source = str(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        written, expanded = _expanded_nodes(node, source)
        if expanded - written > MAX_ALIAS_NODES:
            raise YAMLFileError(
                f"{source}: its aliases (*name) expand {written} written nodes to {expanded:.3g}; expected at most "
                f"{MAX_ALIAS_NODES} nodes added by aliases (a nested-alias 'billion laughs' document is refused)")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(source)
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        raise YAMLFileError(f"{where}: not valid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise YAMLFileError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise YAMLFileError(f"{source}: nested too deeply (or a recursive alias); expected a YAML "
                            "document of plain mappings and lists") from None
    finally:
        loader.dispose()


def read_yaml(path):
    """:func:`load_yaml` of the file ``path`` (UTF-8, a byte-order mark allowed).

    Raises
    ------
    YAMLFileError
        As :func:`load_yaml`, or the file is not UTF-8 text.
    OSError
        The file cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YAMLFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return load_yaml(text, path)
