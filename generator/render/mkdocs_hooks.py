"""MkDocs hooks of the mcref site (mkdocs.yml: `hooks: [generator/render/mkdocs_hooks.py]`).

What they do, event by event:

- on_config: obtain the export (the JSON file named by $MCREF_EXPORT, else
  `generator.pipeline.export_rules(rules/)`), render the generated pages with
  `generator.render.site.render_pages`, set the KaTeX macros (and the site URL when
  $MCREF_SITE_URL names one), expand the
  `mcref:sections` nav entry, and take the build date from the export when
  SOURCE_DATE_EPOCH is not set (sitemap.xml.gz then has the same bytes every build).
  A rule that is invalid, refuted or undecided stops the build with the engine's message.
  The errata page reads errata/paper.yaml and, when present, errata/cookbook.yaml.
- on_files: add the generated pages (a page per rule, a table per section, ...), the
  redirect pages, the search documents, rules.json, the pinned KaTeX files and the search
  library MiniSearch (from node_modules, installed by `npm ci`) as virtual files; nothing
  is written into the docs folder.
- on_page_markdown: put the list of sections and the verification counts into the home page.
- on_page_content: give generated pages a table of contents (their headings are raw HTML).
- on_env: typeset every formula of every page with the pinned KaTeX, in one node process
  (generator/render/katex_prerender.cjs); a formula KaTeX cannot typeset stops the build.
- on_post_page: put the typeset math into the written HTML. Readers get math at first
  paint, without waiting for (or even running) JavaScript; the search index, built from
  the page before this step, keeps the TeX, which on_post_build turns into plain text.
- on_post_build: replace the LaTeX in the search index by a plain-text reading.
- on_serve: watch rules/ and errata/ so `mkdocs serve` rebuilds when a rule changes.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

_ROOT = Path(__file__).resolve().parent.parent.parent
if str(_ROOT) not in sys.path:  # mkdocs loads this file by path, not as a package module
    sys.path.insert(0, str(_ROOT))

from generator.render.site import (
    SiteError,
    concordance_pages,
    render_pages,
    render_section_list,
    render_verification_summary,
    tex_to_text,
)

log = logging.getLogger("mkdocs.hooks.mcref")

#: The nav entry that stands for "one page per section, then the index of all rules".
NAV_MARKER = "mcref:sections"
#: The home page's placeholder for the list of sections.
SECTIONS_MARKER = "<!-- mcref:sections -->"
#: The home page's placeholder for what the checks proved (counts of the export).
VERIFICATION_MARKER = "<!-- mcref:verification -->"
#: Files of the npm package katex copied into the site, relative to its dist/ folder.
KATEX_FILES = ("katex.min.js", "katex.min.css", "contrib/auto-render.min.js")
KATEX_DEST = "assets/katex"
#: The search library (npm package minisearch), copied into the site; loaded only when
#: the search box is first opened.
MINISEARCH_FILE = "dist/umd/index.js"
MINISEARCH_DEST = "assets/minisearch/minisearch.js"
#: The nav entry that stands for the concordance pages of the export.
CONCORDANCE_MARKER = "mcref:concordance"
#: Hand-written by the engine helper, included in the verification report (not a page).
THEORY_PAGE = "verification-theory.md"
#: Nav entries kept only when their page exists (pages other helpers add).
OPTIONAL_PAGES = ("errata.md", "check.md")

# Filled by on_config; MkDocs loads a fresh copy of this module for every build.
_state: dict[str, Any] = {}


# --------------------------------------------------------------------------- inputs


def _load_export(root: Path) -> dict[str, Any]:
    path = os.environ.get("MCREF_EXPORT")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                export = json.load(fh)
        except (OSError, ValueError) as exc:
            raise PluginError(f"mcref: cannot read the export named by MCREF_EXPORT ({path}): {exc}")
        if not isinstance(export, dict):
            raise PluginError(f"mcref: the export {path} is not a JSON object")
        return export
    try:
        from generator.pipeline import export_rules
        from generator.engine.problems import BuildFailed
    except ImportError as exc:
        raise PluginError(f"mcref: the rule engine is not available ({exc}); set MCREF_EXPORT to an export file")
    try:
        return export_rules(root / "rules")
    except BuildFailed as exc:
        raise PluginError(f"mcref: the rules do not build:\n{exc}")


def _load_errata(root: Path, source: str = "paper") -> list[dict[str, Any]] | None:
    """The errata of one source: errata/<source>.yaml ($MCREF_ERRATA names the paper's file,
    $MCREF_ERRATA_COOKBOOK the Cookbook's). A missing paper file gives an empty list (the page
    still exists and says none are listed); a missing file of another source gives None."""
    var = "MCREF_ERRATA" if source == "paper" else f"MCREF_ERRATA_{source.upper()}"
    env = os.environ.get(var)
    path = Path(env) if env else root / "errata" / f"{source}.yaml"
    if not path.is_file():
        if env:
            raise PluginError(f"mcref: {var} names {path}, which is not a file")
        return [] if source == "paper" else None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PluginError(f"mcref: cannot read the errata {path}: {exc}")
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise PluginError(f"mcref: the errata {path} must be a YAML list of mappings")
    return data


def _epoch_of(build_date: str) -> str | None:
    try:
        day = _dt.date.fromisoformat(build_date[:10])
    except (TypeError, ValueError):
        return None
    return str(int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.UTC).timestamp()))


def _section_title(title: str) -> str:
    return re.sub(r"[<>&]", "", title)


def _expand_nav(nav: list[Any], section_items: list[dict[str, str]], has_errata: bool,
                concordance_items: list[dict[str, str]] | None = None, present: set[str] | None = None) -> list[Any]:
    """Replace the markers of mkdocs.yml's nav by the generated pages; drop optional
    entries (errata.md, check.md) whose page does not exist."""

    def missing(value: object) -> bool:
        if value == "errata.md":
            return not has_errata
        return value in OPTIONAL_PAGES and present is not None and value not in present

    out: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            new = {}
            for key, value in item.items():
                if value == NAV_MARKER:
                    new[key] = section_items + [{"Index of all rules": "all-rules.md"}]
                elif value == CONCORDANCE_MARKER:
                    if concordance_items:
                        new[key] = concordance_items
                elif missing(value):
                    continue
                elif isinstance(value, list):
                    expanded = _expand_nav(value, section_items, has_errata, concordance_items, present)
                    if expanded:
                        new[key] = expanded
                else:
                    new[key] = value
            if new:
                out.append(new)
        elif item == NAV_MARKER:
            out.extend(section_items)
        elif item == CONCORDANCE_MARKER:
            out.extend(concordance_items or [])
        elif missing(item):
            continue
        else:
            out.append(item)
    return out


# --------------------------------------------------------------------------- events


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    root = Path(config.config_file_path).resolve().parent
    export = _load_export(root)
    errata = _load_errata(root)
    cookbook_errata = _load_errata(root, "cookbook")
    theory_path = root / str(config.docs_dir or "site") / THEORY_PAGE
    theory = theory_path.read_text(encoding="utf-8") if theory_path.is_file() else None
    try:
        pages = render_pages(export, errata, theory, cookbook_errata=cookbook_errata)
    except SiteError as exc:
        raise PluginError(f"mcref: {exc}")
    _state.update(root=root, export=export, errata=errata, pages=pages)

    # The site URL of mkdocs.yml (or of `mkdocs serve`) stays, unless MCREF_SITE_URL names
    # another: Material's instant navigation only follows links of the origin in the
    # sitemap, so a site served elsewhere (a test server) is built with its own URL.
    # Citations always use the export's site_url.
    if os.environ.get("MCREF_SITE_URL"):
        config.site_url = os.environ["MCREF_SITE_URL"]
    if not os.environ.get("SOURCE_DATE_EPOCH"):
        epoch = _epoch_of(str(export.get("build_date", "")))
        if epoch:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
    macros = json.dumps(export.get("macros") or {}, ensure_ascii=True, sort_keys=True)
    config.extra["mcref_katex_macros"] = macros.replace("<", "\\u003c").replace(">", "\\u003e")
    config.extra["mcref_version"] = str(export.get("version", ""))

    sections = sorted(export.get("sections") or [], key=lambda s: (s.get("order", 0), s["slug"]))
    section_items = [{_section_title(str(s["title"])): f"{s['slug']}.md"} for s in sections if f"{s['slug']}.md" in pages]
    # contributing.md transcludes rules/README.md: resolve snippets from the repository,
    # whatever the working directory of `mkdocs` is.
    snippets = config.mdx_configs.get("pymdownx.snippets")
    if isinstance(snippets, dict):
        snippets["base_path"] = [str(root)]
    concordance_items = [{_section_title(title): path} for title, path in concordance_pages(export)]
    docs = Path(config.docs_dir)
    present = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")} | set(pages)
    if config.nav:
        config.nav = _expand_nav(list(config.nav), section_items, errata is not None, concordance_items, present)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    pages: dict[str, str] = _state["pages"]
    for src_uri in pages:
        if files.get_file_from_path(src_uri) is not None:
            raise PluginError(f"mcref: {src_uri} is generated from the rules; remove {config.docs_dir}/{src_uri}")
    for src_uri, text in pages.items():
        # .md files are pages; the redirect pages (.html) and search documents (.json) are
        # copied as they are
        files.append(File.generated(config, src_uri, content=text))
    export_json = json.dumps(_state["export"], ensure_ascii=False, indent=1) + "\n"
    files.append(File.generated(config, "rules.json", content=export_json))

    dist = _state["root"] / "node_modules" / "katex" / "dist"
    if not (dist / "katex.min.js").is_file():
        raise PluginError(f"mcref: KaTeX is missing ({dist}); run `npm ci` in {_state['root']}")
    for name in KATEX_FILES:
        files.append(File.generated(config, f"{KATEX_DEST}/{name}", abs_src_path=str(dist / name)))
    for font in sorted((dist / "fonts").glob("*.woff2")):
        files.append(File.generated(config, f"{KATEX_DEST}/fonts/{font.name}", abs_src_path=str(font)))
    minisearch = _state["root"] / "node_modules" / "minisearch" / MINISEARCH_FILE
    if not minisearch.is_file():
        raise PluginError(f"mcref: MiniSearch is missing ({minisearch}); run `npm ci` in {_state['root']}")
    files.append(File.generated(config, MINISEARCH_DEST, abs_src_path=str(minisearch)))
    if files.get_file_from_path("check.md") is not None:  # the browser checker: Pyodide and its Python
        from generator.render.check_page import CheckPageError, site_files as check_page_files

        try:
            for dest, src in check_page_files(_state["root"]):
                if isinstance(src, Path):
                    files.append(File.generated(config, dest, abs_src_path=str(src)))
                else:
                    files.append(File.generated(config, dest, content=src))
        except CheckPageError as exc:
            raise PluginError(f"mcref: {exc}")
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if SECTIONS_MARKER in markdown:
        depth = page.url.count("/")
        markdown = markdown.replace(SECTIONS_MARKER, render_section_list(_state["export"], depth=depth))
    if VERIFICATION_MARKER in markdown:
        markdown = markdown.replace(VERIFICATION_MARKER, render_verification_summary(_state["export"]))
    return markdown


_HEADING = re.compile(r'<h([123]) id="([^"]+)"[^>]*>(.*?)(?:<a class="headerlink"[^>]*>[^<]*</a>)?</h\1>', re.DOTALL)
_INLINE_TEX = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.DOTALL)


def _toc_name(name: str) -> str:
    """A heading as table-of-contents text: its math read as plain text, no tags (a link inside
    a heading must not nest in the table of contents' link). The name is escaped HTML."""
    name = _INLINE_TEX.sub(lambda m: _html.escape(tex_to_text(_html.unescape(m.group(1)), _state.get("export", {}).get("macros")),
                                                  quote=False), name)
    return re.sub(r"<[^>]+>", "", name)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri not in _state.get("pages", {}):
        return html
    tokens: list[dict[str, Any]] = []
    for level, anchor, name in _HEADING.findall(html):
        token = {"level": int(level), "id": anchor, "name": _toc_name(name), "children": []}
        parent = tokens
        while parent and parent[-1]["level"] < token["level"]:  # under the last heading of a higher level
            parent = parent[-1]["children"]
        parent.append(token)
    page.toc = get_toc(tokens)  # type: ignore[arg-type]
    return html


# --------------------------------------------------------------------------- typesetting

#: Math as pymdownx.arithmatex (generic) and generator.render.site write it.
_ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(\\\(|\\\[)(.*?)(\\\)|\\\])</\1>', re.DOTALL)


def _math_items(content: str) -> list[tuple[str, bool]]:
    return [(_html.unescape(tex), opener == "\\[") for _tag, opener, tex, _close in _ARITHMATEX.findall(content)]


def typeset(items: list[tuple[str, bool]], macros: dict[str, str], root: Path) -> dict[tuple[str, bool], str]:
    """Typeset (tex, display) pairs with KaTeX in one node process; PluginError on any failure."""
    unique = sorted(set(items))
    if not unique:
        return {}
    node = shutil.which("node")
    if node is None:
        raise PluginError("mcref: node is needed to typeset the math at build time (install node, run `npm ci`)")
    script = root / "generator" / "render" / "katex_prerender.cjs"
    payload = json.dumps({"macros": macros, "items": [{"tex": t, "display": d} for t, d in unique]})
    proc = subprocess.run([node, str(script)], input=payload, capture_output=True, text=True, cwd=root, timeout=600, check=False)
    if proc.returncode != 0:
        raise PluginError(f"mcref: KaTeX typesetting failed: {proc.stderr.strip()[-2000:]}")
    result = json.loads(proc.stdout)
    if result["errors"]:
        lines = [f"  - {unique[e['index']][0]!r}: {e['message']}" for e in result["errors"]]
        raise PluginError("mcref: KaTeX cannot typeset these formulas:\n" + "\n".join(lines))
    return {key: html for key, html in zip(unique, result["html"])}


def on_env(env: Any, config: MkDocsConfig, files: Files) -> Any:
    items: list[tuple[str, bool]] = []
    for file in files.documentation_pages():
        if file.page is not None and file.page.content:
            items.extend(_math_items(file.page.content))
    macros = _state.get("export", {}).get("macros") or {}
    _state["typeset"] = typeset(items, macros, _state["root"])
    return env


def _replace_math(match: re.Match[str]) -> str:
    tag, opener, tex = match.group(1), match.group(2), match.group(3)
    rendered = _state["typeset"].get((_html.unescape(tex), opener == "\\["))
    if rendered is None:  # not seen in on_env (cannot happen in a full build): leave it to mcref.js
        return match.group(0)
    return f'<{tag} class="arithmatex" data-mc-math="1">{rendered}</{tag}>'


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    if "typeset" not in _state:
        return output
    return _ARITHMATEX.sub(_replace_math, output)


# --------------------------------------------------------------------------- search

_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]|\$\$(.*?)\$\$", re.DOTALL)


def clean_search_text(text: str, macros: dict[str, str]) -> str:
    """Replace every `\\(..\\)`, `\\[..\\]` and `$$..$$` in search index text by plain text."""
    import html as _html

    def repl(match: re.Match[str]) -> str:
        tex = _html.unescape(next(g for g in match.groups() if g is not None))
        return _html.escape(tex_to_text(tex, macros), quote=False)

    return _MATH.sub(repl, text)


@event_priority(-50)  # after the search plugin has written its index
def on_post_build(config: MkDocsConfig) -> None:
    path = Path(config.site_dir) / "search" / "search_index.json"
    if not path.is_file():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    macros = _state.get("export", {}).get("macros") or {}
    for doc in data.get("docs", []):
        for key in ("title", "text"):
            if isinstance(doc.get(key), str):
                doc[key] = clean_search_text(doc[key], macros)
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")


def on_serve(server: Any, config: MkDocsConfig, builder: Any) -> Any:
    root = _state.get("root") or Path(config.config_file_path).resolve().parent
    for folder in (root / "rules", root / "errata"):
        if folder.is_dir():
            server.watch(str(folder))
    for env in ("MCREF_EXPORT", "MCREF_ERRATA", "MCREF_ERRATA_COOKBOOK"):
        if os.environ.get(env):
            server.watch(os.environ[env])
    return server
