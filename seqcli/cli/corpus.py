"""`seqcli corpus list | fetch NAME | info NAME|PATH`: the named corpora and local text files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from seqcli.cli.choices import Format, format_option
from seqcli.cli.common import err_console, locations, out_console, print_json
from seqcli.data.registry import get_corpus, list_corpora, locate_file, lookup, resolve_corpus
from seqcli.data.registry_file import Corpus
from seqcli.data.text import open_text_stream, read_text_with_encoding
from seqcli.errors import DataError

app = typer.Typer(help="List, fetch and inspect corpora.", no_args_is_help=True)

WHOLE_FILE_LIMIT = 256 << 20  # files up to this size are decoded whole (same policy as training)
MAX_LISTED_FILES = 200  # `info DIR` describes at most this many files
_ORIGINS = {"mirror": "in the SEQCLI_DATA mirror", "cache": "in the cache",
            "download": "downloaded and verified"}


FormatOption = Annotated[Format, format_option(Format, "text (a table), or json: one document on stdout.")]


@app.command("list")
def list_(fmt: FormatOption = Format.text) -> None:
    """List the named corpora."""
    corpora = list_corpora()
    if fmt is Format.json:
        print_json([_summary(c) for c in corpora])
        return
    table = _table("name", "task", "size", "licence", title="Corpora")
    for corpus in corpora:
        table.add_row(corpus.name, corpus.task, human_size(corpus.size), corpus.licence)
    out_console.print(table)


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="A corpus name (see `seqcli corpus list`).")],
) -> None:
    """Make a named corpus available locally (downloading it if needed); print its file paths."""
    corpus = get_corpus(name)
    resolved = resolve_corpus(name, data_dir=locations().data, cache_dir=locations().cache, console=err_console)
    for file in corpus.files:
        origin = _ORIGINS.get(resolved.origins[file.path], resolved.origins[file.path])
        err_console.print(f"{corpus.name}: {file.path} {origin}", markup=False)
        out_console.print(str(resolved.paths[file.path]), markup=False)


@app.command()
def info(
    target: Annotated[str, typer.Argument(metavar="NAME|PATH",
                                          help="A corpus name, or a text file or folder.")],
    fmt: FormatOption = Format.text,
) -> None:
    """Describe a named corpus (files, checksums, where it is), or a local text file or folder."""
    found = lookup(target)
    if isinstance(found, Path):
        document, show = path_info(found), _print_path
    else:
        document = corpus_info(found, data_dir=locations().data, cache_dir=locations().cache)
        show = _print_corpus
    if fmt is Format.json:
        print_json(document)
    else:
        show(document)


def corpus_info(corpus: Corpus, *, data_dir: Path | None, cache_dir: Path) -> dict[str, Any]:
    """A JSON-ready description of a registry entry and where its files are locally."""
    document = _summary(corpus)
    files = []
    for file in corpus.files:
        hit = locate_file(file, data_dir=data_dir, cache_dir=cache_dir)
        files.append({"path": file.path, "split": file.split, "label": file.label,
                      "bytes": file.size, "sha256": file.sha256,
                      "local": str(hit[0]) if hit else None, "origin": hit[1] if hit else None})
    document["files"] = files
    return document


def path_info(path: Path) -> dict[str, Any]:
    """Size, lines, characters, distinct characters and encoding of a file (or a folder's files)."""
    if not path.is_dir():
        return text_stats(path)
    found = sorted(p for p in path.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    files = []
    for file in found[:MAX_LISTED_FILES]:
        try:
            files.append(text_stats(file))
        except DataError as err:
            files.append({"path": str(file), "bytes": file.stat().st_size, "error": str(err)})
    return {"path": str(path), "kind": "directory", "file_count": len(found),
            "bytes": sum(p.stat().st_size for p in found), "files": files}


def text_stats(path: Path) -> dict[str, Any]:
    """Statistics of one text file; characters are counted after decoding, with LF endings."""
    size = path.stat().st_size
    if size <= WHOLE_FILE_LIMIT:
        text, encoding = read_text_with_encoding(path)
        chunks: Any = [text]
    else:
        stream = open_text_stream(path)
        encoding, chunks = stream.encoding, stream.chunks
    lines = characters = 0
    distinct: set[str] = set()
    last = ""
    for chunk in chunks:
        lines += chunk.count("\n")
        characters += len(chunk)
        distinct.update(chunk)
        last = chunk[-1]
    if last and last != "\n":
        lines += 1  # a last line without a newline still counts
    return {"path": str(path), "kind": "file", "bytes": size, "lines": lines,
            "characters": characters, "distinct_characters": len(distinct), "encoding": encoding}


def human_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _table(*columns: str, **kwargs: Any) -> Table:
    """A table whose long cells (paths, checksums) wrap instead of being cut short."""
    table = Table(**kwargs)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _summary(corpus: Corpus) -> dict[str, Any]:
    return {"name": corpus.name, "task": corpus.task, "format": corpus.format,
            "encoding": corpus.encoding, "bytes": corpus.size, "labels": list(corpus.labels),
            "licence": corpus.licence, "citation": corpus.citation,
            "description": corpus.description, "homepage": corpus.homepage,
            "source": {"url": corpus.source.url, "archive": corpus.source.archive,
                       "md5": corpus.source.md5}}


def _print_corpus(doc: dict[str, Any]) -> None:
    about = Table(show_header=False, box=None, title=doc["name"], title_justify="left")
    for key in ("task", "format", "encoding", "description", "licence", "citation", "homepage"):
        if doc.get(key):
            about.add_row(key, str(doc[key]))
    if doc["labels"]:
        about.add_row("labels", ", ".join(doc["labels"]))
    about.add_row("source", f"{doc['source']['url']} ({doc['source']['archive']})")
    out_console.print(about)
    out_console.print("files", markup=False)
    for f in doc["files"]:  # plain lines: checksums and paths stay whole and copyable
        split = f"{f['split']} ({f['label']})" if f["label"] else f["split"]
        where = f"{f['local']} ({f['origin']})" if f["local"] else "not available locally"
        out_console.print(f"  {f['path']}  {split}, {human_size(f['bytes'])}\n"
                          f"    sha256  {f['sha256']}\n    local   {where}", markup=False)


def _print_path(doc: dict[str, Any]) -> None:
    rows = doc["files"] if doc["kind"] == "directory" else [doc]
    title = f"{doc['path']} ({doc['file_count']} files)" if doc["kind"] == "directory" else None
    table = _table("file", "size", "lines", "characters", "distinct", "encoding",
                   title=escape(title) if title else None)
    for row in rows:
        if "error" in row:
            table.add_row(escape(row["path"]), human_size(row["bytes"]), "", "", "",
                          escape(row["error"]))
        else:
            table.add_row(escape(row["path"]), human_size(row["bytes"]), str(row["lines"]),
                          str(row["characters"]), str(row["distinct_characters"]), row["encoding"])
    out_console.print(table)
