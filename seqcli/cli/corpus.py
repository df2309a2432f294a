"""`seqcli corpus list | fetch NAME | info NAME|PATH` (placeholder until the registry lands)."""

import typer

app = typer.Typer(help="List, fetch and inspect corpora.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List the named corpora."""
