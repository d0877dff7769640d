"""What a span inherits from the agent spans above it (its request, and spans kept from earlier ones).

A **task span** is an agent span (``gen_ai.operation.name`` ``invoke_agent``, or
``invoke_workflow``, which the GenAI conventions now record on the same agent
span) or a root span. Walking up the parent links among the spans of the
request, a span inherits from every task span above it, the nearest winning:

* **task** — the nearest task span's task id: its ``workmeter.task_id`` if set,
  else the trace id for a root span, else ``<trace id>/<span id>``;
* **labels** — each task span's own attributes read as labels (``workmeter.<name>``
  as ``<name>``; ``enduser.id`` as ``user``; ``gen_ai.agent.name`` (else the older
  ``gen_ai.workflow.name``) as ``workflow``; ``gen_ai.agent.id`` as ``agent_id``);
  an explicit ``workmeter.*`` label anywhere on the path beats an implied one;
* **customer** — the first configured customer attribute on the nearest task span
  that has one.

Only span attributes are inherited (a task span's resource belongs to its own
service). Spans are indexed before anything is resolved, so the order of the
spans in the request never matters; a parent that is not in the request (nor
among the task spans kept from earlier requests, :mod:`~workmeter.interfaces.api.otlp_store`)
ends the walk (the span then inherits nothing, and its task is the trace).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

TASK_OPERATIONS = frozenset({"invoke_agent", "invoke_workflow"})
#: Attributes that are not labels: who pays, and which task.
NOT_LABELS = frozenset({"workmeter.customer", "workmeter.task_id"})


def text(value: Any) -> str | None:
    """An attribute value as label text (None for empty, arrays and maps)."""
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    out = str(value)
    return out or None


@dataclass
class Node:
    span: Span
    attrs: dict[str, Any]
    resource: dict[str, Any]
    #: the customer of the API key of the request that brought the span (it overrides attributes)
    bound_customer: str | None = None

    @property
    def op(self) -> str | None:
        return text(self.attrs.get("gen_ai.operation.name"))

    @property
    def is_task(self) -> bool:
        return self.op in TASK_OPERATIONS or not self.span.parent_span_id


@dataclass(frozen=True)
class Context:
    """What the spans beneath a point of the tree inherit."""

    task_id: str | None = None
    explicit: dict[str, str] = field(default_factory=dict)   # workmeter.* labels
    implied: dict[str, str] = field(default_factory=dict)    # user, workflow, agent_id
    customer: str | None = None


EMPTY = Context()


def explicit_labels(attrs: dict[str, Any]) -> dict[str, str]:
    return {k.removeprefix("workmeter."): t for k, v in attrs.items()
            if k.startswith("workmeter.") and k not in NOT_LABELS and (t := text(v))}


def implied_labels(attrs: dict[str, Any]) -> dict[str, str]:
    pairs = (("user", ("enduser.id",)), ("workflow", ("gen_ai.agent.name", "gen_ai.workflow.name")),
             ("agent_id", ("gen_ai.agent.id",)))
    out: dict[str, str] = {}
    for label, keys in pairs:
        value = next((t for k in keys if (t := text(attrs.get(k)))), None)
        if value:
            out[label] = value
    return out


def own_task_id(node: Node) -> str:
    span = node.span
    given = text(node.attrs.get("workmeter.task_id"))
    if given:
        return given
    trace = span.trace_id.hex()
    return f"{trace}/{span.span_id.hex()}" if span.parent_span_id else trace


class SpanTree:
    """The spans of one export request, indexed by (trace id, span id), with memoized contexts."""

    def __init__(self, nodes: Iterable[Node], customer_attributes: tuple[str, ...]) -> None:
        #: every span, in request order (a span sent twice is mapped twice: the ledger dedups it)
        self.spans = list(nodes)
        self.nodes: dict[tuple[bytes, bytes], Node] = {}
        for node in self.spans:
            self.nodes.setdefault((node.span.trace_id, node.span.span_id), node)
        self.customer_attributes = customer_attributes
        self._below: dict[tuple[bytes, bytes], Context] = {}

    def parent(self, node: Node) -> Node | None:
        if not node.span.parent_span_id:
            return None
        return self.nodes.get((node.span.trace_id, node.span.parent_span_id))

    def rooted(self, node: Node) -> bool:
        """Whether the chain of parents above ``node`` is complete: it reaches a root span."""
        seen: set[tuple[bytes, bytes]] = set()
        cur: Node | None = node
        while cur is not None and cur.span.parent_span_id:
            if self._key(cur) in seen:   # a cycle of parent links never reaches a root
                return False
            seen.add(self._key(cur))
            cur = self.parent(cur)
        return cur is not None

    def inherited(self, node: Node) -> Context:
        """The context ``node`` inherits from its ancestors in this request."""
        parent = self.parent(node)
        return EMPTY if parent is None else self.below(parent)

    def below(self, node: Node) -> Context:
        """The context of the spans beneath ``node`` (iterative: deep traces never recurse)."""
        path: list[Node] = []
        on_path: set[tuple[bytes, bytes]] = set()
        cur: Node | None = node
        while cur is not None and self._key(cur) not in self._below:
            path.append(cur)
            on_path.add(self._key(cur))
            cur = self.parent(cur)
            if cur is not None and self._key(cur) in on_path:   # a cycle of parent links
                cur = None
        context = EMPTY if cur is None else self._below[self._key(cur)]
        for item in reversed(path):
            context = self._extend(context, item) if item.is_task else context
            self._below[self._key(item)] = context
        return self._below[self._key(node)]

    def _extend(self, outer: Context, node: Node) -> Context:
        customer = next((t for name in self.customer_attributes if (t := text(node.attrs.get(name)))), None)
        return Context(task_id=own_task_id(node), explicit={**outer.explicit, **explicit_labels(node.attrs)},
                       implied={**outer.implied, **implied_labels(node.attrs)},
                       customer=customer or outer.customer)

    @staticmethod
    def _key(node: Node) -> tuple[bytes, bytes]:
        return node.span.trace_id, node.span.span_id
