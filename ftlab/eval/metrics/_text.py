"""Text normalisation shared by the generation metrics."""


def normalise(text: str) -> str:
    """Collapse runs of whitespace and trim: formatting is not content."""
    return " ".join(text.strip().split())
