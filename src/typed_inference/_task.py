"""How a task travels: the facts the generated registry records for each task, read by generic code."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pydantic import BaseModel

InputKind = Literal["text", "json", "binary"]
Body = Literal["nested", "flat", "chat"]
Route = Literal["model", "pipeline", "chat"]
OutputKind = Literal["json", "binary"]
ValidationMode = Literal["lenient", "strict", "off"]
"""How a client checks answers: "lenient" (the default) validates against the task's output schema, keeps unknown
fields and reads a null in an optional field whose schema has no null as that field left out; "strict" also refuses
unknown fields and those nulls in whole answers; "off" builds the result without checking it."""


@dataclass(frozen=True)
class WireVariant:
    """A shape real responses arrive in besides the canonical one, and the transform that normalises it."""

    name: str
    op: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSpec:
    """One task of the Inference API as the registry describes it; its models load on first use."""

    task: str
    module: str
    summary: str
    input_kind: InputKind
    first_argument: str | None
    first_argument_at: str | None
    body: Body
    route: Route
    output_kind: OutputKind
    batch: bool
    input_model: str
    parameters_model: str
    output_model: str
    element_model: str | None
    stream_model: str | None
    stream_end: str | None
    input_fields: tuple[str, ...]
    binary_fields: tuple[str, ...]
    parameter_fields: tuple[str, ...]
    wire_variants: tuple[WireVariant, ...]
    stream_closes_after: str | None = None  # a field whose non-null value lets a stream end without stream_end

    def lookup(self, name: str) -> Any:
        """The generated model class or type alias called `name` in this task's module."""
        module = importlib.import_module(f"typed_inference.types.{self.module}")
        return getattr(module, name)

    @property
    def input(self) -> type[BaseModel]:
        """The request body model."""
        from pydantic import BaseModel

        cls = self.lookup(self.input_model)
        assert isinstance(cls, type) and issubclass(cls, BaseModel)
        return cls

    @property
    def parameters(self) -> type[BaseModel]:
        """The model holding the task's options, whatever the body layout."""
        from pydantic import BaseModel

        cls = self.lookup(self.parameters_model)
        assert isinstance(cls, type) and issubclass(cls, BaseModel)
        return cls

    @property
    def output(self) -> Any:
        """The canonical response type (a model class, or a type alias for arrays and binary outputs)."""
        return self.lookup(self.output_model)

    @property
    def stream(self) -> Any:
        """The type of one stream event, for streaming tasks; None otherwise."""
        return self.lookup(self.stream_model) if self.stream_model else None
