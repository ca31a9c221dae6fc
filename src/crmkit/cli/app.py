"""The ``crmkit`` command: its commands, and crmkit errors turned into one-line messages."""

from __future__ import annotations

import sys

try:
    import typer
except ImportError:  # pragma: no cover - the cli extra is missing
    sys.stderr.write('crmkit: the command line needs the cli extra: pip install "crmkit[cli]"\n')
    raise SystemExit(1) from None

from crmkit.cli.demo import demo
from crmkit.cli.info import info
from crmkit.cli.output import fail
from crmkit.cli.pipeline import pipeline
from crmkit.cli.records import history, show
from crmkit.cli.scores import score
from crmkit.cli.segments import rfm_command, segment
from crmkit.cli.sla import sla
from crmkit.cli.tasks import tasks
from crmkit.errors import CrmkitError

__all__ = ["app", "main"]

app = typer.Typer(
    name="crmkit",
    help="crmkit: the domain logic of a CRM. Start with `crmkit demo`; every command takes "
    "--db URL (default: $CRMKIT_DB, else sqlite:///crmkit-demo.db) and --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
app.command()(demo)
app.command()(segment)
app.command()(score)
app.command()(pipeline)
app.command()(show)
app.command()(history)
app.command("rfm")(rfm_command)
app.command()(sla)
app.command()(tasks)
app.command()(info)


def main(argv: list[str] | None = None) -> None:
    """Run the command line; crmkit errors print one line and exit with code 1."""
    try:
        app(args=argv, prog_name="crmkit", standalone_mode=True)
    except CrmkitError as error:
        first, *rest = str(error).splitlines() or ["failed"]
        fail(first, rest[0].strip() if rest else None)


if __name__ == "__main__":  # pragma: no cover
    main()
