"""The bank's JSON Schema, for editors and for the committed schema file."""

from __future__ import annotations

import json

from kzquiz.model import Bank


def schema_json() -> str:
    """The JSON Schema of a bank file, as stable, pretty-printed JSON."""
    schema = Bank.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kzquiz question bank"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
