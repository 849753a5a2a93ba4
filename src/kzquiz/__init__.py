"""kzquiz: a YAML question bank in, study material out."""

__version__ = "0.3.0"
