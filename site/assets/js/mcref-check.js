/* mcref: the "Check a derivative" page (site/check.md).
 *
 * Loaded on every page but does nothing unless the page holds <form data-mc-check>: only
 * then does it start the checker, a worker running mcref's own Python (the claim parser,
 * the hints and the exact checker) in Pyodide, all served from this site. The form's
 * fields are the command line's flags (--of, --wrt, --expect, --symbols, --assume,
 * --layout, --where), and the verdict is the one `mcref check` prints.
 *
 * State for tests and the bench: <form data-mc-state="loading|ready|checking|done|failed">,
 * data-mc-ready-ms (runtime load time), data-mc-check-ms (last check, in the worker).
 */
(function () {
  "use strict";

  var FIELDS = ["of", "wrt", "expect", "symbols", "assume", "layout", "where", "functions", "order"];
  var TIME_LIMIT_MS = 30000;
  var STAGES = {
    runtime: "Loading Python (WebAssembly, about 13 MB the first time)…",
    sources: "Loading mcref's checker…",
    python: "Starting the checker…"
  };
  var self = document.querySelector("script[src*='assets/js/mcref-check.js']");
  var assetsBase = new URL("../", self ? self.src : location.href).href; // <site>/assets/
  var worker = null;
  var form = null;
  var opened = 0;
  var pending = {};
  var nextId = 1;
  var ready = false;
  var queued = null;
  var shown = 0; // results shown so far (data-mc-run on the result box: tests wait on it)

  function $(selector, root) { return (root || document).querySelector(selector); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  // ------------------------------------------------------------------ KaTeX, on demand

  var katexLoading = null;
  function loadKatex() {
    if (typeof katex !== "undefined") return Promise.resolve();
    if (katexLoading === null) {
      katexLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = assetsBase + "katex/katex.min.js";
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("cannot load KaTeX")); };
        document.head.appendChild(script);
      });
    }
    return katexLoading;
  }

  function macros() {
    var node = document.getElementById("mcref-katex-macros");
    try { return node ? JSON.parse(node.textContent || "{}") : {}; } catch (err) { return {}; }
  }

  function math(tex, display) {
    var span = el("span", { class: display ? "mc-check-math mc-check-display" : "mc-check-math", "data-tex": tex });
    span.textContent = tex;
    return span;
  }

  function typeset(root) {
    var nodes = root.querySelectorAll("[data-tex]");
    if (!nodes.length) return Promise.resolve();
    return loadKatex().then(function () {
      var m = macros();
      for (var i = 0; i < nodes.length; i++) {
        try {
          katex.render(nodes[i].getAttribute("data-tex"), nodes[i], {
            displayMode: nodes[i].classList.contains("mc-check-display"), throwOnError: false, macros: m
          });
        } catch (err) { /* the TeX stays readable as text */ }
      }
    }).catch(function () { /* without KaTeX the TeX stays as text */ });
  }

  function texNumber(s) {
    var m = /^(-?)(\d+)\/(\d+)$/.exec(s);
    return m ? m[1] + "\\tfrac{" + m[2] + "}{" + m[3] + "}" : s;
  }

  function texMatrix(rows, mark) {
    if (rows.length === 1 && rows[0].length === 1) return texNumber(rows[0][0]);
    var body = rows.map(function (row, i) {
      return row.map(function (x, j) {
        var t = texNumber(x);
        return mark && mark[0] === i + 1 && mark[1] === j + 1 ? "\\boxed{" + t + "}" : t;
      }).join(" & ");
    }).join(" \\\\ ");
    return "\\begin{bmatrix}" + body + "\\end{bmatrix}";
  }

  // ------------------------------------------------------------------ the form and the URL

  function fields() {
    var out = {};
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input && input.value.trim() !== "") out[name] = input.value;
    });
    return out;
  }

  function fill(values) {
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input) input.value = values[name] || "";
    });
    if (values.assume || values.layout || values.where || values.functions || values.order) $(".mc-check-more", form).open = true;
  }

  function fromHash() {
    if (!location.hash || location.hash.length < 2) return null;
    var params = new URLSearchParams(location.hash.slice(1));
    var values = {};
    var any = false;
    FIELDS.forEach(function (name) {
      if (params.has(name)) { values[name] = params.get(name); any = true; }
    });
    return any ? values : null;
  }

  function toHash(values) {
    var params = new URLSearchParams();
    FIELDS.forEach(function (name) { if (values[name]) params.set(name, values[name]); });
    history.replaceState(null, "", "#" + params.toString());
  }

  function shellQuote(s) {
    return "'" + s.replace(/'/g, "'\\''") + "'";
  }

  function commandLine(values) {
    var parts = ["mcref check"];
    FIELDS.forEach(function (name) { if (values[name]) parts.push("--" + name + " " + shellQuote(values[name])); });
    return parts.join(" ");
  }

  // ------------------------------------------------------------------ status and progress

  function setState(state) { form.setAttribute("data-mc-state", state); }

  function status(text) { $(".mc-check-status", form).textContent = text; }

  function progress(fraction) {
    var box = $(".mc-check-progress", form);
    if (fraction === null) { box.hidden = true; return; }
    box.hidden = false;
    $(".mc-check-bar", box).style.width = Math.round(fraction * 100) + "%";
  }

  // ------------------------------------------------------------------ the worker

  function startWorker() {
    ready = false;
    opened = performance.now();
    setState("loading");
    status(STAGES.runtime);
    progress(0.1);
    worker = new Worker(assetsBase + "js/mcref-check-worker.js", { type: "module" });
    worker.onmessage = onMessage;
    worker.onerror = function (event) {
      setState("failed");
      progress(null);
      status("The checker could not start: " + (event.message || "an error in the worker") + ". The command line gives the same answer: see below.");
    };
    worker.postMessage({ type: "boot", base: assetsBase });
    // KaTeX loads beside the runtime, so the first verdict is typeset at once, never shown as raw TeX
    loadKatex().catch(function () { /* without KaTeX the TeX stays as text */ });
  }

  function onMessage(event) {
    var msg = event.data || {};
    if (msg.type === "stage") {
      status(STAGES[msg.stage] || msg.stage);
      progress({ runtime: 0.1, sources: 0.7, python: 0.85 }[msg.stage] || 0.5);
    } else if (msg.type === "ready") {
      ready = true;
      var ms = Math.round(performance.now() - opened);
      form.setAttribute("data-mc-ready-ms", String(ms));
      form.setAttribute("data-mc-runtime", msg.version || "");
      progress(null);
      setState("ready");
      status("Ready (loaded in " + (ms / 1000).toFixed(1) + " s).");
      if (queued) { var q = queued; queued = null; run(q); }
    } else if (msg.type === "result") {
      var job = pending[msg.id];
      if (!job) return;
      delete pending[msg.id];
      clearTimeout(job.timer);
      form.setAttribute("data-mc-check-ms", String(Math.round(msg.ms)));
      setState("done");
      status("Checked in " + (msg.ms < 1000 ? Math.round(msg.ms) + " ms" : (msg.ms / 1000).toFixed(1) + " s") + ".");
      show(msg.result, job.values);
    } else if (msg.type === "error") {
      setState("failed");
      progress(null);
      status(msg.message);
      if (msg.id && pending[msg.id]) { clearTimeout(pending[msg.id].timer); delete pending[msg.id]; }
    }
  }

  function run(values) {
    if (!ready) {
      queued = values;
      status("The checker is still loading; your claim will be checked as soon as it is ready.");
      return;
    }
    var id = nextId++;
    setState("checking");
    status("Checking…");
    var timer = setTimeout(function () {
      delete pending[id];
      worker.terminate();
      show({ status: "undecided", lines: ["undecided: the check ran past its time limit of " + TIME_LIMIT_MS / 1000 + " s"], problems: [] }, values);
      status("The check took too long; the checker is restarting.");
      startWorker();
    }, TIME_LIMIT_MS);
    pending[id] = { values: values, timer: timer };
    worker.postMessage({ type: "check", id: id, fields: values });
  }

  // ------------------------------------------------------------------ the verdict

  var HEADINGS = {
    verified: "Holds", refuted: "Does not hold", undecided: "Cannot tell", invalid: "Cannot read the claim", error: "The checker failed"
  };

  function show(result, values) {
    var box = $(".mc-check-result");
    box.innerHTML = "";
    clearInvalid();
    var state = result.status || "error";
    box.setAttribute("data-mc-status", state);
    box.setAttribute("data-mc-run", String(++shown));
    box.setAttribute("data-mc-holds", (result.holds_in || []).join(" "));
    var card = el("section", { class: "mc-check-card mc-check-" + state });
    card.appendChild(el("h2", { class: "mc-check-verdict", text: HEADINGS[state] || state }));

    if (state === "invalid") {
      (result.problems || []).forEach(function (p) { card.appendChild(problem(p, values)); });
    } else if (state === "error") {
      card.appendChild(el("p", { text: result.message || "an unexpected error" }));
    } else {
      if (result.claim) card.appendChild(claimLine(result.claim));
      if (result.layout_note) card.appendChild(el("p", { class: "mc-check-layout", "data-mc-note": result.layout_note, text: capital(result.layout_note) + "." }));
      if (result.counterexample) card.appendChild(counterexample(result.counterexample, result.kind, (result.claim || {}).latex));
      (result.repairs || []).forEach(function (r) { card.appendChild(repair(r, values)); });
      if (state === "refuted" && !(result.repairs || []).length && (result.tried || []).length) {
        card.appendChild(el("p", { class: "mc-check-none", text: "None of the usual slips (" + result.tried.join(", ") + ") makes it hold." }));
      }
      (result.notes || []).forEach(function (n) { card.appendChild(el("p", { class: "mc-check-note", text: "Note: " + n })); });
      if (state === "undecided") (result.lines || []).forEach(function (l) { card.appendChild(el("p", { text: l })); });
      var d = result.decision || {};
      var which = el("p", { class: "mc-check-which", "data-mc-scope": d.scope || "" }, [
        d.statement && state !== "refuted" ? (state === "verified" ? el("strong", { text: d.statement + ". " }) : d.statement + ". ") : null,
        (d.checks && d.checks.length) ? "Checks run: " + d.checks.join("; ") + "." : ""
      ]);
      card.appendChild(which);
    }
    card.appendChild(el("details", { class: "mc-check-cli" }, [
      el("summary", { text: "The same check on the command line" }),
      el("pre", {}, [el("code", { text: commandLine(values) })])
    ]));
    box.appendChild(card);
    typeset(box);
  }

  function capital(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }

  function claimLine(c) {
    var two = c.latex.order === 2;
    var lhs = c.latex.lhs;
    var p = el("div", { class: "mc-check-claim" }, [math(lhs + " = " + c.latex.expect, true)]);
    var text = el("p", { class: "mc-check-read" }, [
      "Read as: ", el("code", { text: (c.latex.kind === "differential" ? "d(" + c.of + ")" : "d(" + c.of + ")/d" + c.wrt) + " = " + c.expect })
    ]);
    (c.where || []).forEach(function (w) { text.appendChild(document.createTextNode(", where ")); text.appendChild(el("code", { text: w.name + " = " + w.expr })); });
    p.appendChild(text);
    return p;
  }

  function entryWords(cx) {
    var rows = cx.truth.length, cols = cx.truth[0].length;
    if (rows === 1 && cols === 1) return "The value";
    if (cols === 1) return "Entry " + cx.row;
    if (rows === 1) return "Entry " + cx.col;
    return "Entry (" + cx.row + ", " + cx.col + ")";
  }

  function counterexample(cx, kind, latex) {
    var names = (latex && latex.symbols) || {};
    var wrap = el("div", { class: "mc-check-cx" });
    var sizes = Object.keys(cx.sizes).map(function (k) { return k + " = " + cx.sizes[k]; }).join(", ");
    var head = el("p", {}, [el("strong", { text: "Counterexample" }), sizes ? " at " + sizes : ""]);
    head.appendChild(document.createTextNode(cx.show_point ? " with" : ":"));
    wrap.appendChild(head);
    if (cx.show_point) {
      // one block per symbol, so a line break never sets one matrix under another as if they were one
      wrap.appendChild(el("div", { class: "mc-check-point" }, Object.keys(cx.point).map(function (name) {
        return el("span", { class: "mc-check-value" }, [math((names[name] || name) + " = " + texMatrix(cx.point[name]), false)]);
      })));
    }
    var what = cx.what || "the derivative (" + cx.layout + " layout)";
    var t = cx.truth[cx.row - 1][cx.col - 1], c = cx.claimed[cx.row - 1][cx.col - 1];
    wrap.appendChild(el("p", {}, [entryWords(cx) + " of " + what + " is ", math(texNumber(t)), ", the claim gives ", math(texNumber(c)),
      cx.exact ? "." : " (rounded).", cx.truth.length > 1 || cx.truth[0].length > 1 ? " Entries are numbered from 1." : ""]));
    if (cx.show_point && cx.truth.length <= 4 && cx.truth[0].length <= 4 && (cx.truth.length > 1 || cx.truth[0].length > 1)) {
      wrap.appendChild(el("div", { class: "mc-check-matrices" }, [
        el("figure", {}, [math(texMatrix(cx.truth, [cx.row, cx.col]), true), el("figcaption", { text: cx.what === "the Hessian" ? "true Hessian" : /differential/.test(cx.what || "") ? "true value" : "true derivative" })]),
        el("figure", {}, [math(texMatrix(cx.claimed, [cx.row, cx.col]), true), el("figcaption", { text: "your claim" })])
      ]));
    }
    return wrap;
  }

  function repair(r, values) {
    var p = el("p", { class: "mc-check-repair", "data-mc-repair": r.kind, "data-mc-expect": r.expect || "" }, [el("strong", { text: "Probably: " }), r.message + "."]);
    if (r.expect || Object.keys(r.assume || {}).length) {
      var fixed = Object.assign({}, values);
      if (r.expect) fixed.expect = r.expect;
      if (r.kind === "layout") fixed.layout = r.layout;
      if (!r.expect) {
        fixed.assume = [values.assume, Object.keys(r.assume).map(function (k) { return k + ": " + r.assume[k].join(" "); }).join("; ")]
          .filter(Boolean).join("; ");
      }
      var button = el("button", { type: "button", class: "mc-check-try", text: "Check this instead" });
      button.addEventListener("click", function () { fill(fixed); submit(); });
      p.appendChild(document.createTextNode(" "));
      p.appendChild(button);
    }
    return p;
  }

  function clearInvalid() {
    FIELDS.forEach(function (name) {
      var input = form.elements[name];
      if (input) input.removeAttribute("aria-invalid");
    });
  }

  function problem(p, values) {
    var input = form.elements[p.field];
    if (input) input.setAttribute("aria-invalid", "true");
    var wrap = el("div", { class: "mc-check-problem", "data-mc-field": p.field, "data-mc-col": String(p.col), "data-mc-line": p.line });
    wrap.appendChild(el("p", {}, [el("strong", { text: p.field }), ", column " + p.col + ": " + p.message.replace(new RegExp("^" + p.field + " "), "")]));
    var text = values[p.field];
    if (typeof text === "string" && text.indexOf("\n") < 0) {
      var caret = new Array(Math.max(p.col, 1)).join(" ") + "^";
      wrap.appendChild(el("pre", { class: "mc-check-caret" }, [el("code", { text: text + "\n" + caret })]));
      if (input) {
        var at = Math.max(p.col - 1, 0);
        var go = el("button", { type: "button", class: "mc-check-try", text: "Go there" });
        go.addEventListener("click", function () { input.focus(); input.setSelectionRange(at, at + 1); });
        wrap.appendChild(go);
      }
    }
    return wrap;
  }

  // ------------------------------------------------------------------ wiring

  function submit() {
    var values = fields();
    toHash(values);
    run(values);
  }

  function setUp(root) {
    var found = $("form[data-mc-check]", root);
    if (!found || found === form) return;
    form = found;
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
    var examples = document.querySelectorAll("[data-mc-example]");
    for (var i = 0; i < examples.length; i++) {
      examples[i].addEventListener("click", function (event) {
        fill(JSON.parse(event.currentTarget.getAttribute("data-mc-example")));
        submit();
        form.scrollIntoView({ behavior: "smooth", block: "start" });
      });
    }
    var initial = fromHash();
    if (initial) fill(initial);
    if (worker === null) startWorker();
    else { ready = ready && true; setState(ready ? "ready" : "loading"); }
    if (initial) run(fields());
  }

  if (typeof document$ !== "undefined") {
    document$.subscribe(function (doc) { setUp(doc.body || document.body); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document.body); });
  } else {
    setUp(document.body);
  }
})();
