"""Writing one benchmark's results into its own `## name` section of docs/benchmarks.md."""

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def replace_section(name: str, body: str, doc: Path = DOC) -> None:
    """Put `## name` followed by `body` in place of that section (or at the end if new)."""
    section = f"## {name}\n\n{body.strip()}\n"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(f"## {name}\n")
    if start == -1:
        doc.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + 1)
    rest = "" if end == -1 else text[end + 1 :]
    doc.write_text(text[:start] + section + ("\n" + rest if rest else ""))
