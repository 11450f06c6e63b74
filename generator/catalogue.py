"""Stage 5, catalogue: verified rules -> the export document the site and the PDF read.

Pure: no file is read here. The export is a documented format (`mcref-rules/1`, see
site/export-format.md) that other tools may read too.
"""

from __future__ import annotations

from typing import Any

from generator import ENGINE_VERSION, __version__
from generator.engine import concordance as conc
from generator.render.cite import reference_cite, rule_cite, standalone
from generator.render.latex import MACROS, symbol_latex
from generator.render.plaintext import text_with_math
from generator.engine.parse import is_scalar, is_vector, show_shape
from generator.engine.rule import Rule
from generator.engine.claims import Verdict, sympy_version

FORMAT = "mcref-rules/1"
SOURCE_NAMES = {
    "paper": "Parr & Howard (2018), The Matrix Calculus You Need For Deep Learning, section {}",
    "cookbook": "The Matrix Cookbook (2012 edition), eq. {}",
    "reference": "{}",
    "derived": "Derived: {}",
}


def rule_path(rule_id: str) -> str:
    """A rule's permanent page, relative to the site root: `rules/<id>/`."""
    return f"rules/{rule_id}/"


def rule_url(rule_id: str, site_url: str) -> str | None:
    """The absolute address of a rule's page, or None when no site address is configured."""
    return f"{site_url}{rule_path(rule_id)}" if site_url else None


def combined(verdict: Verdict, example: Verdict | None) -> Verdict:
    """A rule is only as verified as its printed example."""
    if example is None or example.status == "verified" or verdict.status != "verified":
        return Verdict(**{**verdict.__dict__, "example": example})
    return Verdict(example.status, verdict.sizes, verdict.layouts, verdict.numeric_points, verdict.max_rel_error,
                   verdict.seconds + example.seconds, f"worked example: {example.detail}", example)


def published(verification: dict[str, Any]) -> dict[str, Any]:
    """A verdict as published: without proof times, which vary from run to run (builds must repeat)."""
    out = {k: v for k, v in verification.items() if k != "seconds"}
    if isinstance(out.get("example"), dict):
        out["example"] = published(out["example"])
    if isinstance(out.get("all_sizes"), dict):
        # A verdict read back from the cache lists these keys in another order than a fresh one.
        out["all_sizes"] = _sorted_keys(out["all_sizes"])
    return out


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _shape_list(decl: list[Any]) -> list[Any]:
    return list(decl)


def _kind(decl: list[Any]) -> str:
    return {0: "scalar", 1: "vector", 2: "matrix"}[len(decl)]


def _sources(rule: Rule, caveats: dict[str, str] | None = None) -> list[dict[str, str]]:
    """A rule's sources as printed; a Cookbook number known only by its position says so."""
    out = []
    for item in rule.data.get("sources", []):
        ((kind, ref),) = item.items()
        text = SOURCE_NAMES[kind].format(ref)
        if kind == "cookbook" and (caveats or {}).get(str(ref)) not in (None, "", "confirmed"):
            text += f" ({caveats[str(ref)]})"  # type: ignore[index]
        out.append({"kind": kind, "ref": str(ref), "text": text})
    return out


def wrt_text(wrt: str | list[str]) -> str:
    """`wrt` as published: the symbol, or for a `wrt: [x, y]` list the names joined, "x, y"."""
    return ", ".join(wrt) if isinstance(wrt, list) else wrt


def rule_entry(rule: Rule, verdict: Verdict, site_url: str = "", caveats: dict[str, str] | None = None) -> dict[str, Any]:
    data = rule.data
    claim = rule.claim
    result_shape: dict[str, Any] = {}
    for layout in ("numerator", "denominator"):
        shape = claim.expect.shape if layout == claim.layout or claim.kind == "differential" else (claim.expect.shape[1], claim.expect.shape[0])
        result_shape[layout] = [] if is_scalar(shape) else ([shape[0]] if is_vector(shape) else list(shape))
    example = None
    if rule.example is not None and rule.example_latex is not None:
        ex = data["example"]
        example = {"text": ex.get("text", ""), "of": ex["of"], "wrt": wrt_text(ex.get("wrt", data["wrt"])), "expect": ex["expect"],
                   "where": [{"name": k, "expr": v} for k, v in ex.get("where", {}).items()], "latex": rule.example_latex}
    return {
        "id": rule.id,
        "title": data["title"],
        "title_text": text_with_math(data["title"], MACROS),
        "path": rule_path(rule.id),
        "url": rule_url(rule.id, site_url),
        "section": data["section"],
        "kind": claim.kind,
        "order": claim.order,
        "layout": claim.layout,
        "symbols": {name: {"shape": _shape_list(decl), "kind": _kind(decl), "latex": symbol_latex(name, claim.scope.symbols[name])}
                    for name, decl in data["symbols"].items()},
        "functions": {name: {"args": f["args"], "to": f["to"]} for name, f in data.get("functions", {}).items()},
        "of": data["of"],
        "wrt": wrt_text(data["wrt"]),
        "wrt_parts": list(data["wrt"]) if isinstance(data["wrt"], list) else [data["wrt"]],
        "expect": data["expect"],
        "where": [{"name": k, "expr": v} for k, v in data.get("where", {}).items()],
        "latex": {**rule.latex, "display": data.get("display")},
        "result_shape": result_shape,
        "result_shape_text": {k: show_shape(tuple(v) if len(v) == 2 else ((v[0], 1) if v else (1, 1))) for k, v in result_shape.items()},
        "assume": {k: list(v) for k, v in claim.assume.items()},
        "conditions": data.get("conditions", "none"),
        "sources": _sources(rule, caveats),
        "tags": list(data.get("tags", [])),
        "aliases": list(data.get("aliases", [])),
        "notes": data.get("notes", ""),
        "related": list(data.get("related", [])),
        "example": example,
        "verification": {**published(verdict.to_json()), "engine": ENGINE_VERSION, "sympy": sympy_version()},
    }


def build_export(rules: list[Rule], verdicts: dict[str, Verdict], sections: list[dict[str, Any]], *,
                 site_url: str, build_date: str, redirects: dict[str, str] | None = None,
                 redirect_sections: dict[str, str] | None = None,
                 concordance: dict[str, list[conc.Entry]] | None = None,
                 concordance_errata: dict[str, dict[int, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The export document; rules grouped by section, in each section's teaching order."""
    order = {s["slug"]: i for i, s in enumerate(sections)}
    place = {rule_id: j for s in sections for j, rule_id in enumerate(s.get("rules", []))}
    # A rule not yet placed (only outside a published build) goes after the placed ones.
    ordered = sorted(rules, key=lambda r: (order.get(r.data["section"], len(order)), place.get(r.id, len(place)), r.id))
    caveats = conc.number_caveats((concordance or {}).get(conc.COOKBOOK.key, []))
    entries = [rule_entry(r, verdicts[r.id], site_url, caveats) for r in ordered]
    for entry in entries:
        entry["latex"]["standalone"] = standalone(entry["latex"], MACROS)
        entry["cite"] = rule_cite(entry, version=__version__, build_date=build_date, url=entry["url"])
    concordance_out, concordance_sources = conc.build_concordance(concordance or {}, concordance_errata or {})
    refs = conc.rule_refs(concordance or {})
    for entry in entries:
        entry["concordance"] = refs.get(entry["id"], [])
    counts = {status: sum(1 for e in entries if e["verification"]["status"] == status) for status in ("verified", "refuted", "undecided")}
    counts["total"] = len(entries)
    counts["all_sizes"] = sum(1 for e in entries if e["verification"]["status"] == "verified" and e["verification"]["scope"] == "all-sizes")
    section_list = [
        {"slug": s["slug"], "title": s["title"], "summary": s.get("summary", ""), "order": i,
         "count": sum(1 for e in entries if e["section"] == s["slug"]),
         "rules": [e["id"] for e in entries if e["section"] == s["slug"]]}
        for i, s in enumerate(sections)
    ]
    known = {e["id"] for e in entries}
    return {
        "format": FORMAT,
        "version": __version__,
        "engine": ENGINE_VERSION,
        "sympy": sympy_version(),
        "build_date": build_date,
        "site_url": site_url,
        "macros": dict(MACROS),
        "cite": reference_cite(version=__version__, build_date=build_date, url=site_url or None),
        "counts": counts,
        "sections": section_list,
        "rules": entries,
        "redirects": {old: new for old, new in sorted((redirects or {}).items()) if new in known},
        # Retired ids in full: where each now resolves, and the section it was published in
        # (so /<section>/#<old-id> keeps landing somewhere).
        "retired": [{"id": old, "to": new, "section": (redirect_sections or {}).get(old)}
                    for old, new in sorted((redirects or {}).items()) if new in known],
        "concordance": concordance_out,
        "concordance_sources": concordance_sources,
    }
