"""`typed-inference docs [TOPIC]`: the documentation shipped in the package, printed (no URL needed)."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from typed_inference.cli._common import CommandError, Subparsers, guarded

README_TOPIC = "readme"


def add_commands(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "docs",
        help="print the documentation shipped with the package (no TOPIC: list the topics)",
        description="Print a topic of the documentation as Markdown: `readme` (the README), `server`, `cli`, "
        "`tasks`, ... Without TOPIC, list them. The same files as docs/ in the repository.",
    )
    parser.add_argument("topic", nargs="?", metavar="TOPIC", help="a topic, e.g. server (default: list the topics)")
    parser.set_defaults(run=guarded("docs", run_docs))


def docs_folder() -> Path:
    """Where the documentation is: the package's `_docs/` (a built wheel), else the checkout's `docs/`."""
    package = Path(__file__).resolve().parent.parent
    shipped = package / "_docs"
    if shipped.is_dir():
        return shipped
    return package.parent.parent / "docs"  # src/typed_inference → the checkout's root


def topics() -> dict[str, Path]:
    """Every topic and its file: the README first, then docs/*.md by name."""
    folder = docs_folder()
    readme = folder / "README.md" if (folder / "README.md").is_file() else folder.parent / "README.md"
    found = {README_TOPIC: readme} if readme.is_file() else {}
    found.update({path.stem: path for path in sorted(folder.glob("*.md")) if path.name != "README.md"})
    return found


def title(path: Path) -> str:
    """A document's first `# ` heading."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("# "):
                return line[2:].strip()
    return ""


def run_docs(args: argparse.Namespace) -> int:
    """Prints the topic's Markdown, or the list of topics."""
    known = topics()
    if not known:
        raise CommandError(f"no documentation found in {docs_folder()}")
    if args.topic is None:
        width = max(map(len, known)) + 2
        lines = [f"{name:<{width}}{title(path)}" for name, path in known.items()]
        lines.append("\n`typed-inference docs TOPIC` prints one (Markdown; `| less` to page it).")
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    name = args.topic.lower().removesuffix(".md")
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CommandError(f"unknown topic {args.topic!r}{hint} (topics: {', '.join(known)})")
    sys.stdout.write(known[name].read_text(encoding="utf-8"))
    return 0
