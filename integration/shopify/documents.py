"""The GraphQL documents the connector sends to Shopify, and the schema they are checked against.

Each document is one operation in ``documents/<name>.graphql``; the schema is the vendored subset
of Shopify's Admin API in ``schema/admin.graphql`` (the version the settings pin). A document is
parsed and validated when it is first loaded: one that does not fit the schema raises
``DocumentInvalid`` naming the file and graphql-core's error, so a typo fails at once, in tests,
not at Shopify. The simulator serves the same schema file.
"""

from __future__ import annotations

import functools
from pathlib import Path

import graphql

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "schema" / "admin.graphql"
DOCUMENTS_DIR = HERE / "documents"


class DocumentInvalid(Exception):
    """A document that does not parse or does not validate against the schema."""


@functools.cache
def schema() -> graphql.GraphQLSchema:
    """The vendored Admin API schema (built once per process)."""
    return graphql.build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


def document_errors(text: str, source_name: str = "<document>") -> list[str]:
    """graphql-core's errors for ``text`` against the schema (empty when it is valid), each with
    its line and column."""
    try:
        ast = graphql.parse(graphql.Source(text, source_name))
    except graphql.GraphQLError as error:
        return [_located(error)]
    return [_located(error) for error in graphql.validate(schema(), ast)]


def _located(error: graphql.GraphQLError) -> str:
    where = ", ".join(f"line {loc.line} column {loc.column}" for loc in error.locations or [])
    return f"{error.message} ({where})" if where else error.message


def validate_file(path: Path) -> str:
    """The text of the document at ``path``, checked: exactly one operation, valid against the
    schema; else ``DocumentInvalid`` naming the file and the errors."""
    text = path.read_text(encoding="utf-8")
    errors = document_errors(text, str(path))
    if not errors:
        operations = [
            d for d in graphql.parse(text).definitions if isinstance(d, graphql.OperationDefinitionNode)
        ]
        if len(operations) != 1:
            errors = [f"expected one operation, found {len(operations)}"]
    if errors:
        raise DocumentInvalid(f"{path.name}: " + "; ".join(errors))
    return text


@functools.cache
def document(name: str) -> str:
    """The text of ``documents/<name>.graphql``, validated against the schema."""
    path = DOCUMENTS_DIR / f"{name}.graphql"
    if not path.is_file():
        raise DocumentInvalid(f"{name}.graphql: no such document in {DOCUMENTS_DIR}")
    return validate_file(path)


def document_names() -> list[str]:
    """Every document's name, sorted."""
    return sorted(path.stem for path in DOCUMENTS_DIR.glob("*.graphql"))
