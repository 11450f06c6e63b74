"""`mcref show ID`: one rule, verified, in the form an instructor pastes into a document.

    mcref show trace-axb                      # LaTeX, numerator layout (compiles with amsmath and bm)
    mcref show trace-axb --format markdown    # for slides (Markdown with $$...$$ math)
    mcref show trace-axb --format text        # plain Unicode text
    mcref show trace-axb --format json        # the rule's entry of rules.json

Only the rule's own file is checked (the verdict cache makes that instant); an id retired
in rules/_redirects.yaml shows the rule it resolves to, and an unknown id gets a
did-you-mean. The render functions are pure; `run` is the subcommand.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.render.cite import rule_tex, standalone
from generator.render.sheets import suggestions

FORMATS = ("latex", "markdown", "text", "json")
LAYOUTS = ("numerator", "denominator")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="a rule id, e.g. trace-axb")
    parser.add_argument("--format", choices=FORMATS, default="latex", help="what to print (default: latex)")
    parser.add_argument("--layout", choices=LAYOUTS, default="numerator",
                        help="layout of the formula (default: numerator, as in the paper)")


def _form(rule: Mapping[str, Any], layout: str) -> str:
    """The layout a rule prints in: a differential has one form, its own."""
    latex = rule.get("latex") or {}
    return layout if latex.get(layout) else str(rule.get("layout") or "numerator")


def _statement(rule: Mapping[str, Any]) -> str:
    verification = rule.get("verification") or {}
    return str(verification.get("statement") or verification.get("detail") or verification.get("status", ""))


def render_markdown(export: Mapping[str, Any], rule: Mapping[str, Any], layout: str) -> str:
    """Markdown for slides: the title, the formula as $$...$$ (no macros), where lines, conditions, citation."""
    layout = _form(rule, layout)
    forms = standalone(rule.get("latex") or {}, export.get("macros") or {})
    title = str(rule.get("title_text") or rule.get("title"))
    form = "a differential" if rule.get("kind") == "differential" else f"{layout} layout"
    lines = [f"**{title}** ({form})", "", "$$", str(forms[layout]), "$$", ""]
    where = forms.get("where") or []
    if where:
        lines += ["where " + ", ".join(f"${w['name']} = {w['value']}$" for w in where), ""]
    conditions = str(rule.get("conditions") or "none")
    if conditions.strip().lower() != "none":
        lines += [f"*Conditions:* {conditions}", ""]
    lines.append(f"Source: {(rule.get('cite') or {}).get('markdown', '')}")
    return "\n".join(lines) + "\n"


def render_text(export: Mapping[str, Any], rule: Mapping[str, Any], layout: str) -> str:
    """Plain Unicode text: the formula read out, the rule as written, conditions, verdict, citation."""
    from generator.render.plaintext import tex_to_text

    layout = _form(rule, layout)
    macros = export.get("macros") or {}
    latex = rule.get("latex") or {}
    rid = str(rule["id"])
    formula = f"{tex_to_text(str(latex.get('derivative', '')), macros)} = {tex_to_text(str(latex.get(layout, '')), macros)}"
    differential = rule.get("kind") == "differential"
    form = "a differential: the same in both layouts" if differential else f"{layout} layout"
    lines = [f"{rule.get('title_text') or rule.get('title')}  [{rid}]", f"  {formula}    ({form})"]
    for w in latex.get("where") or []:
        lines.append(f"    where {tex_to_text(str(w['name']), macros)} = {tex_to_text(str(w['value']), macros)}")
    if differential:
        written = f"d({rule.get('of')}) = {rule.get('expect')}"
        lines.append(f"  as written in rules/{rid}.yaml: {written}")
    else:
        written = f"d/d{rule.get('wrt')} {rule.get('of')} = {rule.get('expect')}"
        lines.append(f"  as written in rules/{rid}.yaml ({rule.get('layout')} layout): {written}")
    for w in rule.get("where") or []:
        lines.append(f"    where {w['name']} = {w['expr']}")
    conditions = str(rule.get("conditions") or "none")
    lines.append(f"  conditions: {conditions}")
    lines.append(f"  verified: {_statement(rule)}")
    cite = rule.get("cite") or {}
    lines.append(f"  cite: {cite.get('text', '')}")
    return "\n".join(lines) + "\n"


def render(export: Mapping[str, Any], rule: Mapping[str, Any], fmt: str, layout: str) -> str:
    if fmt == "json":
        return json.dumps(rule, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(export, rule, layout)
    if fmt == "text":
        return render_text(export, rule, layout)
    return rule_tex(export, rule, _form(rule, layout))


def _known_ids(rules_dir: Path) -> list[str]:
    return sorted(p.stem for p in rules_dir.glob("*.yaml") if not p.name.startswith("_"))


def run(args: argparse.Namespace) -> int:
    """Print one rule; exit 0, 1 if it is not verified, 2 for an unknown id or an invalid file."""
    from generator.catalogue import build_export
    from generator.pipeline import DEFAULT_RULES, build_date, check, failure_message, read_redirects, site_url

    rules_dir: Path = getattr(args, "rules", None) or DEFAULT_RULES
    rid = str(args.id)
    redirects, _, _ = read_redirects(rules_dir)
    target = redirects.get(rid, rid)
    path = rules_dir / f"{target}.yaml"
    if target.startswith("_") or "/" in target or not path.is_file():
        known = _known_ids(rules_dir) + sorted(redirects)
        close = suggestions(rid, known)
        hint = f"; did you mean {' or '.join(close)}?" if close else f"; the ids are the file names in {rules_dir}/"
        print(f"mcref show: no rule has the id {rid!r}{hint}", file=sys.stderr)
        return 2
    if target != rid:
        print(f"note: rule {rid!r} is now {target!r} (rules/_redirects.yaml)", file=sys.stderr)
    address = site_url(getattr(args, "site_url", None))
    report = check([path], jobs=args.jobs, use_cache=not args.no_cache, timeout=args.timeout)
    if report.problems or not report.rules:
        print(failure_message(report), file=sys.stderr)
        return 2
    export = build_export(report.rules, report.verdicts, report.sections, site_url=address, build_date=build_date(),
                          redirects=report.redirects)
    rule = export["rules"][0]
    status = rule["verification"]["status"]
    if status != "verified":
        print(f"mcref show: rule {target} is {status}, not verified: {rule['verification'].get('detail', '')}",
              file=sys.stderr)
        return 1
    sys.stdout.write(render(export, rule, args.format, args.layout))
    return 0
