"""The `mcref` command: check, export, pdf, show, build, serve.

No Python traceback reaches a user: every failure becomes a message and an exit code
(0 all verified, 1 refuted or undecided, 2 invalid input or usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from generator import __version__
from generator.pipeline import DEFAULT_RULES, Report, build_date, build_export, check, failure_message, site_url
from generator.engine.problems import BuildFailed
from generator.engine.rule import Rule
from generator.engine.runner import DEFAULT_TIMEOUT
from generator.engine.claims import Verdict


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--no-cache", action="store_true", help="prove every rule again, ignoring cached verdicts")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per rule before it is undecided (default 180)")


def _site_url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site-url", metavar="URL", default=None,
                        help="the site's public address for links and citations (default: $MCREF_SITE_URL, "
                             "else site_url in mkdocs.yml, else none: relative links, citations without a URL)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcref", description="A verified matrix-calculus reference: check rules, build the site and the cheat sheets.")
    parser.add_argument("--version", action="version", version=f"mcref {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check", help="validate and verify rules (default: rules/)")
    p.add_argument("paths", nargs="*", type=Path, help="rule files or folders")
    p.add_argument("--publish", action="store_true", help="also require the fields publishing needs (sources, tags, ...)")
    p.add_argument("--format", choices=("human", "parsable", "github"), default="human", help="how problems are printed")
    claim = p.add_argument_group("a one-line claim", "check your own derivative without a rule file, e.g. "
                                 "mcref check --of 'x.T @ A @ x' --wrt x --expect '(A + A.T) @ x' --symbols 'x: [n]; A: [n, n]'")
    claim.add_argument("--of", metavar="EXPR", help="the expression differentiated")
    claim.add_argument("--wrt", metavar="NAME", help="the symbol it is differentiated by")
    claim.add_argument("--expect", metavar="EXPR", help="your derivative (or its differential, with d(X))")
    claim.add_argument("--symbols", metavar="SPEC", help="every symbol with its shape: 'x: [n]; A: [m, n]; s: []'")
    claim.add_argument("--assume", metavar="SPEC", help="properties of symbols: 'A: symmetric; x: positive'")
    claim.add_argument("--layout", choices=("numerator", "denominator"), help="the layout of --expect (default: find out)")
    claim.add_argument("--functions", metavar="SPEC", help="generic functions: 'f: [n] -> []; g: [], [n] -> [m]'")
    claim.add_argument("--order", choices=("1", "2"), help="2: your second derivative (a Hessian by a vector) or second differential")
    claim.add_argument("--where", metavar="SPEC", help="named intermediates used in --of/--expect: 'P: softmax(S); dP: G @ V.T'")
    _common(p)

    p = sub.add_parser("export", help="write every rule with its verdict as JSON")
    p.add_argument("paths", nargs="*", type=Path, help="rule files or folders (default: rules/)")
    p.add_argument("--out", type=Path, help="file to write (default: standard output)")
    _site_url_option(p)
    _common(p)

    try:
        from generator.render import pdf
    except ImportError:  # the PDF module is optional for check/export
        pdf = None  # type: ignore[assignment]
    if pdf is not None:
        p = sub.add_parser("pdf", help="typeset a cheat sheet with LaTeX")
        pdf.add_arguments(p)
        p.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rules folder (default: rules/)")
        _site_url_option(p)
        _common(p)

    p = sub.add_parser("show", help="print one rule as LaTeX, Markdown, text or JSON, with its citation")
    from generator.render import show

    show.add_arguments(p)
    p.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="rules folder (default: rules/)")
    _site_url_option(p)
    _common(p)

    try:
        from generator import build
    except ImportError:
        build = None  # type: ignore[assignment]
    if build is not None:
        p = sub.add_parser("build", help="check every rule, then write build/site, build/pdf and build/rules.json")
        build.add_arguments(p)
        _site_url_option(p)
        _common(p)
        p = sub.add_parser("serve", help="live preview of the site while editing rules")
        p.add_argument("--dev-addr", default="127.0.0.1:8000", help="address to serve on")
    return parser


MAX_RULE_HINTS = 10  # a corpus whose check went badly wrong is not searched for slips rule by rule


class Lines:
    """Per-rule verdict lines, with a progress bar on a terminal."""

    def __init__(self, total: int, out: TextIO) -> None:
        self.out = out
        self.hinted = 0
        self.progress: Any = None
        if sys.stderr.isatty() and total > 5:
            try:
                from rich.progress import Progress

                self.progress = Progress(transient=True)
                self.progress.start()
                self.task = self.progress.add_task("verifying", total=total)
            except ImportError:
                self.progress = None

    def __call__(self, rule: Rule, verdict: Verdict, cached: bool) -> None:
        note = "cached" if cached else f"{verdict.seconds:.2f} s"
        line = f"{verdict.status:<10} {rule.id}  ({note})"
        if verdict.status == "refuted" and self.hinted < MAX_RULE_HINTS:
            from generator.student.claim_check import rule_refutation_hints

            self.hinted += 1
            field, hints = rule_refutation_hints(rule)
            at_line, at_col = rule.doc.at(*field)
            line += f"\n           {rule.doc.shown}:{at_line}:{at_col}: {'.'.join(field)}: {verdict.detail}"
            for hint in hints or [f"fix {'.'.join(field)} (or a where line): none of the usual slips (layout, transpose, "
                                  f"factor 2, sign, swapped factors) explains the difference"]:
                line += f"\n           {hint}"
        elif verdict.status != "verified":
            line += f"\n           {rule.doc.shown}: {verdict.detail}"
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False)
            self.progress.advance(self.task)
        else:
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _print_problems(report: Report, fmt: str) -> None:
    for p in report.problems:
        if fmt == "github":
            print(f"::error file={p.path},line={p.line},col={p.col},title={p.code}::{p.message}")
        else:
            print(p.format())


CLAIM_FLAGS = ("of", "wrt", "expect", "symbols", "assume", "layout", "functions", "where", "order")


def cmd_check(args: argparse.Namespace) -> int:
    if any(getattr(args, name, None) is not None for name in CLAIM_FLAGS):
        return cmd_check_claim(args)
    paths = args.paths or [DEFAULT_RULES]
    from generator.student.claim_check import run_claim_documents, split_claim_files
    from generator.engine.load import find_rule_files
    from generator.pipeline import load_and_parse, verify

    files, missing = find_rule_files(paths)
    rule_files, claim_docs, _ = split_claim_files(files, args.publish)
    report = load_and_parse(paths if not claim_docs else rule_files, args.publish)
    if claim_docs:
        report.problems += missing
    lines = Lines(len(report.rules), sys.stdout)
    try:
        verify(report, jobs=args.jobs, use_cache=not args.no_cache, timeout=args.timeout, on_verdict=lines)
    finally:
        lines.close()
    if claim_docs:
        problems, verdicts = run_claim_documents(claim_docs, args)
        report.problems = sorted(report.problems + problems)
        report.verdicts.update(verdicts)
        report.files += len(claim_docs)
    _print_problems(report, args.format)
    if report.files == 0 and not report.problems:
        print("no rule files found", file=sys.stderr)
        return 2
    print(report.summary())
    print(report.scope_summary())
    return report.exit_code


def cmd_check_claim(args: argparse.Namespace) -> int:
    """`mcref check --of ... --wrt ... --expect ... --symbols ...`: one claim, judged, with hints."""
    if args.paths:
        print("mcref check: give rule or claim files, or a one-line claim (--of ...), not both", file=sys.stderr)
        return 2
    from generator.student.claim_check import run_command_line_claim

    problems, verdicts, caret = run_command_line_claim(args)
    report = Report(files=1, verdicts=verdicts, problems=problems, one_input=True)
    if args.format == "human":
        for line in caret:
            print(line)
    else:
        _print_problems(report, args.format)
    print(report.summary())
    print(report.scope_summary())
    return report.exit_code


def cmd_export(args: argparse.Namespace) -> int:
    address = site_url(args.site_url)
    report = check(args.paths or [DEFAULT_RULES], jobs=args.jobs, use_cache=not args.no_cache, timeout=args.timeout)
    if report.problems:
        print(failure_message(report), file=sys.stderr)
        return 2
    export = build_export(report.rules, report.verdicts, report.sections, site_url=address, build_date=build_date(),
                          redirects=report.redirects, redirect_sections=report.redirect_sections,
                          concordance=report.concordance, concordance_errata=report.concordance_errata)
    text = json.dumps(export, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return report.exit_code


def cmd_pdf(args: argparse.Namespace) -> int:
    from generator.render import pdf
    from generator.pipeline import export_rules

    export = export_rules(args.rules, jobs=args.jobs, use_cache=not args.no_cache, url=args.site_url)
    return int(pdf.run(args, export))


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "pdf":
            return cmd_pdf(args)
        if args.command == "show":
            from generator.render import show

            return show.run(args)
        from generator import build

        if args.command == "build":
            return int(build.run(args))
        return int(build.serve(args))
    except BuildFailed as err:
        print(str(err), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"mcref: {err}", file=sys.stderr)
        return 2
