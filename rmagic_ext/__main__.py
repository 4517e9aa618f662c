"""``python -m rmagic_ext install-kernel | doctor | migrate``: the command line
(logic in cli.py and migrate.py)."""

from __future__ import annotations

import argparse
import sys

from . import cli, migrate


def parser() -> argparse.ArgumentParser:
    """The argument parser: one subcommand per public command."""
    main = argparse.ArgumentParser(prog="python -m rmagic_ext", description="R in the IPython kernel's own process.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    install = commands.add_parser(
        "install-kernel",
        help=f'install the "{cli.DISPLAY_NAME}" Jupyter kernelspec',
        description="Install a Jupyter kernelspec that starts IPython with rmagic_ext "
        "loaded. Default: --sys-prefix inside a virtual environment, "
        "--user otherwise.",
    )
    where = install.add_mutually_exclusive_group()
    where.add_argument(
        "--user",
        dest="location",
        action="store_const",
        const="user",
        help="install for the current user (~/.local/share/jupyter)",
    )
    where.add_argument(
        "--sys-prefix",
        dest="location",
        action="store_const",
        const="sys-prefix",
        help="install into this Python's prefix (the venv)",
    )
    where.add_argument("--prefix", metavar="DIR", help="install into DIR/share/jupyter/kernels")
    install.add_argument("--name", default=cli.KERNEL_NAME, help=f"kernelspec name (default {cli.KERNEL_NAME})")
    install.add_argument(
        "--display-name",
        metavar="TEXT",
        default=cli.DISPLAY_NAME,
        help=f'name shown in Jupyter (default "{cli.DISPLAY_NAME}")',
    )

    check = commands.add_parser(
        "doctor",
        help="check R, rpy2, graphics devices, R packages and the kernelspec",
        description="Check everything R cells need; print the fix for each problem. "
        "Exit status 1 when something is broken.",
    )
    check.add_argument(
        "--notebooks",
        metavar="DIR",
        default=".",
        help="the project folder: the R packages its notebooks load, and its R library (default: the current folder)",
    )

    move = commands.add_parser(
        "migrate",
        help="make notebooks written for rpy2's magics load rmagic_ext",
        description="Rewrite '%%load_ext rpy2.ipython' (and '%%load_ext rmagic') in the "
        "code cells of each notebook to '%%load_ext rmagic_ext', in place; "
        "nothing else in the file changes.",
    )
    move.add_argument("notebooks", nargs="+", metavar="NOTEBOOK.ipynb")
    move.add_argument("--dry-run", action="store_true", help="show the diff, change nothing")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "install-kernel":
        location = "prefix" if args.prefix else args.location
        path = cli.install_kernel(args.name, args.display_name, location, args.prefix)
        print(f'Installed kernelspec {args.name} ("{args.display_name}") in {path}')
        return 0
    if args.command == "migrate":
        return migrate.main(args.notebooks, args.dry_run)
    return cli.doctor(folder=args.notebooks)


if __name__ == "__main__":
    sys.exit(main())
