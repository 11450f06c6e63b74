// Typeset math with the pinned KaTeX (node_modules/katex) at build time.
// stdin:  {"macros": {...}, "items": [{"tex": "...", "display": true}, ...]}
// stdout: {"html": ["<span class=\"katex\">...", ...], "errors": [{"index": 3, "message": "..."}]}
// Called once per site build by generator/render/mkdocs_hooks.py (on_env).
"use strict";
const katex = require("katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const { macros = {}, items = [] } = JSON.parse(input);
  const html = [];
  const errors = [];
  items.forEach((item, index) => {
    try {
      html.push(katex.renderToString(item.tex, {
        displayMode: Boolean(item.display),
        macros: Object.assign({}, macros),
        throwOnError: true,
        strict: "ignore",
        output: "htmlAndMathml",
      }));
    } catch (err) {
      html.push(null);
      errors.push({ index, message: String(err && err.message ? err.message : err) });
    }
  });
  process.stdout.write(JSON.stringify({ version: katex.version, html, errors }));
});
