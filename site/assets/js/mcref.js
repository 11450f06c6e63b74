/* mcref: math, copy LaTeX, the global layout switch.
 *
 * Math is written by pymdownx.arithmatex (generic) and by the rule generator as
 * <span class="arithmatex">\( ... \)</span> and <div class="arithmatex">\[ ... \]</div>.
 * The build typesets all of it with KaTeX (generator/render/mkdocs_hooks.py, on_env) and marks it
 * data-mc-math="1", so pages arrive with their math. Should any element arrive untypeset,
 * this script loads the site's own copy of KaTeX and renders it with katex.render, on the
 * first load and after every instant navigation (Material's document$ observable).
 * When a page's math is done, <html data-mc-math="done"> is set (tests and bench wait on it).
 */
(function () {
  "use strict";

  var macros = null;
  var scriptAt = performance.now();

  function readMacros() {
    if (macros === null) {
      macros = {};
      var el = document.getElementById("mcref-katex-macros");
      if (el) {
        try {
          macros = JSON.parse(el.textContent || "{}");
        } catch (err) {
          console.error("mcref: cannot read the KaTeX macros", err);
        }
      }
    }
    return macros;
  }

  function unwrap(text) {
    var tex = text.trim();
    var pairs = [["\\(", "\\)", false], ["\\[", "\\]", true], ["$$", "$$", true], ["$", "$", false]];
    for (var i = 0; i < pairs.length; i++) {
      var p = pairs[i];
      if (tex.length >= p[0].length + p[1].length &&
          tex.slice(0, p[0].length) === p[0] && tex.slice(-p[1].length) === p[1]) {
        return { tex: tex.slice(p[0].length, tex.length - p[1].length), display: p[2] };
      }
    }
    return null;
  }

  var katexLoading = null;

  function loadKatex() {
    if (typeof katex !== "undefined") return Promise.resolve();
    if (katexLoading === null) {
      katexLoading = new Promise(function (resolve, reject) {
        var self = document.querySelector("script[src*='assets/js/mcref.js']");
        var script = document.createElement("script");
        script.src = new URL("../katex/katex.min.js", self ? self.src : location.href).href;
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("cannot load " + script.src)); };
        document.head.appendChild(script);
      });
    }
    return katexLoading;
  }

  function done(count, started) {
    window.mcrefMath = {
      count: count,
      renderMs: performance.now() - started,
      doneAt: performance.now(),
      scriptAt: scriptAt
    };
    document.documentElement.setAttribute("data-mc-math", "done");
    measureSoon();
  }

  function renderMath(root) {
    var started = performance.now();
    var all = root.querySelectorAll(".arithmatex");
    var todo = root.querySelectorAll(".arithmatex:not([data-mc-math])");
    if (todo.length === 0) {
      done(all.length, started);
      return;
    }
    loadKatex().then(function () {
      renderNodes(todo);
      done(all.length, started);
    }, function (err) {
      console.error("mcref: KaTeX did not load: " + err.message);
    });
  }

  function renderNodes(nodes) {
    var m = readMacros();
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var parsed = unwrap(el.textContent || "");
      if (parsed === null) continue;
      try {
        katex.render(parsed.tex, el, {
          displayMode: parsed.display || el.tagName === "DIV",
          macros: Object.assign({}, m),
          throwOnError: true,
          strict: "ignore",
          output: "htmlAndMathml"
        });
        el.setAttribute("data-mc-math", "1");
      } catch (err) {
        console.error("mcref: KaTeX cannot render " + JSON.stringify(parsed.tex) + ": " + err.message);
      }
    }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      ok ? resolve() : reject(new Error("copy refused"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".mc-copy") : null;
    if (!button) return;
    var latex = button.getAttribute("data-latex") || "";
    copyText(latex).then(function () {
      button.textContent = "Copied";
      button.classList.add("mc-copied");
      setTimeout(function () {
        button.textContent = "Copy LaTeX";
        button.classList.remove("mc-copied");
      }, 1500);
    }, function (err) {
      console.warn("mcref: copy failed", err);
      button.textContent = "Copy failed";
    });
  });

  /* The layout of the formulas: one choice for the whole site, remembered in
     localStorage and shared by every open tab. <html data-mc-layout> is set before the
     first paint by the inline script of overrides/main.html; the stylesheet reads it. */
  var LAYOUT_KEY = "mcref.layout";

  function currentLayout() {
    return document.documentElement.getAttribute("data-mc-layout") === "denominator" ? "denominator" : "numerator";
  }

  function showLayout(layout) {
    document.documentElement.setAttribute("data-mc-layout", layout);
    var buttons = document.querySelectorAll("[data-mc-set-layout]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", buttons[i].getAttribute("data-mc-set-layout") === layout ? "true" : "false");
    }
  }

  function setLayout(layout) {
    showLayout(layout);
    measureFormulas(document);
    try {
      localStorage.setItem(LAYOUT_KEY, layout);
    } catch (err) {
      /* private mode: the choice lasts for this page */
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-mc-set-layout]") : null;
    if (!button) return;
    setLayout(button.getAttribute("data-mc-set-layout"));
  });

  window.addEventListener("storage", function (event) {
    if (event.key === LAYOUT_KEY) showLayout(event.newValue === "denominator" ? "denominator" : "numerator");
  });

  /* Printing: a display formula never runs off the paper. The print stylesheet lets a
     formula break after a top-level relation or operator (between KaTeX's bases) and, for
     a piece still wider than its box, shrinks it: it reads --mc-w, the width of the widest
     unbreakable piece in ems of the formula's own font size, measured here on screen
     (ems do not depend on the font size, so the print size follows from the box width
     alone: see print.css). Hidden formulas (the other layout) are measured when shown. */
  function measureFormulas(root) {
    var displays = (root || document).querySelectorAll("div.arithmatex .katex-display > .katex");
    for (var i = 0; i < displays.length; i++) {
      var k = displays[i];
      var html = k.querySelector(".katex-html");
      if (!html || k.offsetParent === null) continue;
      var em = parseFloat(getComputedStyle(k).fontSize);
      if (!em) continue;
      var widest = 0;
      for (var c = html.firstElementChild; c; c = c.nextElementSibling) {
        widest = Math.max(widest, c.getBoundingClientRect().width);
      }
      if (widest > 0) {
        k.closest("div.arithmatex").style.setProperty("--mc-w", (widest / em).toFixed(3));
      }
    }
  }

  function measureSoon() {
    var run = function () { measureFormulas(document); };
    if (document.fonts && document.fonts.ready) {
      document.fonts.ready.then(run, run);
    } else {
      run();
    }
  }

  window.addEventListener("beforeprint", function () { measureFormulas(document); });
  window.mcrefMeasureFormulas = measureFormulas;

  /* A site built without a public address (no site_url) cannot print a rule's permanent
     link; the page shows the address it is served from instead. */
  function showAddresses(root) {
    var links = (root || document).querySelectorAll("a[data-mc-here]");
    for (var i = 0; i < links.length; i++) {
      links[i].textContent = new URL(links[i].getAttribute("href"), location.href).href;
    }
  }

  window.mcrefRenderMath = renderMath;

  if (typeof document$ !== "undefined") {
    document$.subscribe(function (doc) {
      showLayout(currentLayout());
      showAddresses(doc.body || document.body);
      renderMath(doc.body || document.body);
    });
  } else {
    showLayout(currentLayout());
    showAddresses(document.body);
    renderMath(document.body);
  }
})();
