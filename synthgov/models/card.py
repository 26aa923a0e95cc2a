"""datasets/<id>/card.yaml: what a dataset is, who owns it, what its columns must look like.

Column order is part of the card: attack column sets are derived from it (BRIEF §10.18).
"""

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints, model_validator

from synthgov.models.common import (
    Classification,
    FieldError,
    FiniteFloat,
    Model,
    Name,
    SchemaVersion,
    Slug,
    Text,
    single_line,
)
from synthgov.models.policy import RuleOverride

ColumnName = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(single_line)
]
Scalar = Annotated[str, StringConstraints(max_length=1000)] | int | bool


class ColumnType(StrEnum):
    """How a column is read and compared: numbers get KS, categories get TV (BRIEF §8)."""

    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"
    STRING = "string"
    DATETIME = "datetime"
    DATE = "date"

    @property
    def is_numeric(self) -> bool:
        return self in (ColumnType.INTEGER, ColumnType.NUMBER)


class Column(Model):
    name: ColumnName
    type: Annotated[ColumnType, Strict(False)]
    nullable: bool = False
    unique: bool = False
    # int first: integer bounds stay integers (exact above 2**53, written without ".0").
    min: int | FiniteFloat | None = None
    max: int | FiniteFloat | None = None
    allowed_values: list[Scalar] | None = Field(
        None, min_length=1, description="The categories a categorical column may take."
    )
    pattern: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Regular expression every non-null string value must match in full."
    )
    description: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Column":
        if (self.min is not None or self.max is not None) and not self.type.is_numeric:
            raise FieldError(("min",), "min/max apply to integer and number columns")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise FieldError(("min",), f"min {self.min:g} is above max {self.max:g}")
        if self.allowed_values is not None and self.type not in (
            ColumnType.CATEGORICAL,
            ColumnType.BOOLEAN,
        ):
            raise FieldError(
                ("allowed_values",), "allowed_values apply to categorical and boolean columns"
            )
        if self.allowed_values is not None and len(set(map(repr, self.allowed_values))) != len(
            self.allowed_values
        ):
            raise FieldError(("allowed_values",), "allowed_values has duplicates")
        if self.pattern is not None:
            if self.type is not ColumnType.STRING:
                raise FieldError(("pattern",), "pattern applies to string columns")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise FieldError(("pattern",), f"not a valid regular expression: {exc}") from None
        return self


class Constraint(Model):
    """A row rule, e.g. `amount >= 0` or `end >= start`, in synthgov's expression language."""

    name: Slug
    rule: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    description: Text | None = None


class Source(Model):
    id: Slug = Field(description="The source dataset; its privacy ledger is budgets/<id>.yaml.")
    privacy_unit: Text = Field(description="What one protected record is, e.g. 'one patient'.")


class Target(Model):
    column: ColumnName
    positive: Scalar = Field(description="The label counted as positive for ROC AUC.")


class Card(Model):
    """The dataset card: identity, ownership, permitted use, schema and extra rules."""

    schema_version: SchemaVersion
    id: Slug
    title: Name
    owner: Name = Field(description="A team or an email; need not be a registered reviewer.")
    description: Text
    source: Source
    classification: Annotated[Classification, Strict(False)]
    intended_uses: list[Text] = Field(min_length=1)
    prohibited_uses: list[Text] = Field(default_factory=list)
    limitations: list[Text] = Field(default_factory=list)
    retention_days: int | None = Field(None, ge=1, le=36_500)
    access_groups: list[Slug] = Field(default_factory=list)
    revalidation_days: int | None = Field(None, ge=1, le=3650)
    columns: list[Column] = Field(min_length=1)
    constraints: list[Constraint] = Field(default_factory=list)
    prohibited_columns: list[ColumnName] = Field(
        default_factory=list, description="Direct identifiers that must never appear."
    )
    quasi_identifiers: list[ColumnName] = Field(default_factory=list)
    subgroup_columns: list[ColumnName] = Field(default_factory=list)
    target: Target | None = None
    secret_columns: list[ColumnName] = Field(
        default_factory=list, description="Inference-attack secrets; default: the target."
    )
    overrides: dict[str, RuleOverride] = Field(
        default_factory=dict, description="Rule overrides; they may only tighten the policy."
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Card":
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise FieldError(("columns",), f"duplicate column names: {', '.join(duplicates)}")
        known = set(names)
        refs = {
            "quasi_identifiers": self.quasi_identifiers,
            "subgroup_columns": self.subgroup_columns,
            "secret_columns": self.secret_columns,
            "target": [self.target.column] if self.target else [],
        }
        for field, columns in refs.items():
            missing = [c for c in columns if c not in known]
            if missing:
                raise FieldError((field,), f"names unknown columns: {', '.join(missing)}")
        clash = sorted(known & set(self.prohibited_columns))
        if clash:
            raise FieldError(
                ("prohibited_columns",), f"prohibited columns are in the schema: {', '.join(clash)}"
            )
        constraint_names = [c.name for c in self.constraints]
        if len(set(constraint_names)) != len(constraint_names):
            raise FieldError(("constraints",), "constraint names must be unique")
        return self

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)
