/* mcref search: a search box whose results are rules.
 *
 * The documents (assets/mcref-search.json, written by generator/render/site.py: one per rule and
 * one per section) are indexed in the browser with MiniSearch (npm package minisearch,
 * copied into assets/minisearch/ by the build), loaded the first time the box opens.
 *
 * One normaliser serves both sides: the documents' fields and the query go through the
 * same functions below (`formulaKey` for formula spellings, `tokenize`/`processTerm` for
 * words), so `a^T x`, `aTx`, `a'x`, `a.T @ x` and `aᵀx` all read "atx", `tr(X^T X)` and
 * `trace(X.T @ X)` read "trxtx", `||x||^2` and `norm(x)**2` read "normx2", and `log det`,
 * `logdet` and `log(det(X))` meet. A query made of operators is never an error.
 *
 * Ranking: MiniSearch's BM25 over id, title, aliases, tags, formula, section and notes
 * (a word counts once per field; joined words carry a mark so a whole word is not taken as
 * their prefix), weighted by how many of the query's words a rule answers; then bonuses: an
 * exact id first of all (a retired id finds its rule); the query being a rule's name word
 * for word; a formula spelling equal to (or a prefix of) a rule's formula, also with function
 * arguments dropped (u(x)ᵀv(x) as uᵀv) and repeated factors as powers (X X as X²); the
 * variable of a `d/dX` in the query; teaching order breaks ties.
 *
 * The core (`createSearch`) also runs under node, for bench/search_bench.py and the tests.
 */
(function (root, factory) {
  "use strict";
  var core = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = core;
  } else {
    root.mcrefSearchCore = core;
    core.attachUi(root);
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ------------------------------------------------------------------ normalisation

  var SUPERSCRIPT = { "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5", "⁶": "6",
    "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "⁺": "+", "ᵀ": "T", "ⁿ": "n", "ᵏ": "k" };
  var GREEK = { "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "eps", "η": "eta",
    "θ": "theta", "λ": "lambda", "μ": "mu", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau",
    "φ": "phi", "ψ": "psi", "ω": "omega", "Σ": "sigma", "∇": " nabla ", "∑": " sum ", "√": "sqrt",
    "⊙": "*", "∘": "*", "⊘": "/", "⊗": " kron ", "·": "*", "×": "*", "−": "-", "∂": "d" };

  /** Unicode superscripts, Greek letters and operator signs in ASCII. */
  function fold(text) {
    return String(text)
      .replace(/[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ᵀⁿᵏ]+/g, function (run) {
        return "^{" + run.split("").map(function (c) { return SUPERSCRIPT[c]; }).join("") + "}";
      })
      .replace(/[αβγδεηθλμπρστφψωΣ∇∑√⊙∘⊘⊗·×−∂]/g, function (c) { return GREEK[c]; })
      .replace(/‖/g, "||");
  }

  /** A formula spelling squashed to a key: lower case, no spaces, brackets or products (+, -
   * and / stay), transposes as "t", inverses as "inv", powers as their digits, norms as
   * "norm(...)", determinants as "det", traces as "tr". */
  function formulaKey(text) {
    var s = fold(text);
    s = s.replace(/\\(top|intercal)\b/g, "T").replace(/\\(left|right|mathbf|mathrm|operatorname|bm|boldsymbol)\b/g, "");
    // derivative operators say what to differentiate by, not what: d/dX, ∂/∂x, d/dx
    s = s.replace(/(^|[^a-z])d\s*\/\s*d\s*[A-Za-z][A-Za-z0-9_]*/g, "$1 ");
    s = s.toLowerCase();
    s = s.replace(/\.t\b/g, "^t").replace(/'/g, "^t").replace(/\*\*/g, "^");
    s = s.replace(/\btrace\b/g, "tr").replace(/\bdeterminant\b/g, "det").replace(/\bln\b/g, "log").replace(/\blam\b/g, "lambda");
    s = invAfter(s);
    s = s.replace(/\|\|([^|]*)\|\|/g, "norm($1)");
    s = s.replace(/\|([^|]+)\|/g, "det($1)");
    s = s.replace(/(norm\([^()]*\))\s*_\s*\{?\s*(2|f)\s*\}?/g, "$1");
    s = s.replace(/\^\s*[{(]?\s*-\s*1\s*[})]?/g, "inv");
    s = s.replace(/\^\s*\{?\s*t\s*\}?/g, "t");
    s = s.replace(/\^\s*[{(]?\s*(\d+)\s*[})]?/g, "$1");
    // "+", "-" and "/" stay: u(x) + v(x), u(x) - v(x), u(x)/v(x) and u(x) v(x) are different
    // rules (a hyphen inside a word, as in log-sum-exp, is not a minus)
    s = s.replace(/([a-z]{2,})-(?=[a-z]{2,})/g, "$1");
    return s.replace(/[^a-z0-9+\-\/]/g, "").replace(/([+\-\/])[+\-\/]+/g, "$1").replace(/^[+\/]+|[+\-\/]+$/g, "");
  }

  /** inv(...) written as (...)^-1, so inv(X), X^-1, inv(X.T @ X) and (X^T X)^-1 meet. */
  function invAfter(s) {
    var out = "";
    var i = 0;
    for (;;) {
      var m = /\binv\s*\(/g;
      m.lastIndex = i;
      var hit = m.exec(s);
      if (!hit) return out + s.slice(i);
      var depth = 1;
      var j = hit.index + hit[0].length;
      while (j < s.length && depth > 0) {
        if (s[j] === "(") depth++;
        else if (s[j] === ")") depth--;
        j++;
      }
      if (depth > 0) return out + s.slice(i);
      var inner = s.slice(hit.index + hit[0].length, j - 1);
      out += s.slice(i, hit.index) + (/^\s*[a-z][a-z0-9]*\s*$/.test(inner) ? inner.trim() : "(" + invAfter(inner) + ")") + "^-1";
      i = j;
    }
  }

  /** Formula words as students say them, in the query only: "x transpose A x" is xᵀAx,
   * "X inverse" X⁻¹, "x squared" x², and a trailing "wrt W" / "with respect to W" / "by W"
   * names the variable as d/dW does. Only between a single letter (or a bracket) and the
   * end, an operator or another single letter: "a transpose with respect to a scalar" and
   * "x squared norm" stay words. */
  function spoken(query) {
    var s = String(query);
    var by = s.match(/^(.*\S)\s+(?:wrt|w\.r\.t\.?|with respect to|by)\s+([A-Za-z](?:_?\d)?)\s*$/i);
    if (by && !/(^|[^A-Za-z])d\s*\/\s*d\s*[A-Za-z]/.test(by[1])) s = "d/d" + by[2] + " " + by[1];
    var SPOKEN = { transpose: "^T", inverse: "^-1", squared: "^2", cubed: "^3" };
    return s.replace(/((?:^|[^A-Za-z])[A-Za-z]|\))\s+(transpose|inverse|squared|cubed)(?=\s*$|\s*[^A-Za-z\s]|\s+[A-Za-z](?![A-Za-z]))/g,
      function (all, what, word) { return what + SPOKEN[word]; });
  }

  /** A formula spelling with its constant letters unified (A, B, C, M, W; a, b, c): tr(XᵀBX) and tr(XᵀAX), Wx and Ax, bᵀx and
   * aᵀx, are the same rule to a student who names constants differently. */
  function constantsUnified(text) {
    return String(text).replace(/(^|[^A-Za-z\\])[BCMW](?![A-Za-z])/g, "$1A").replace(/(^|[^A-Za-z\\])[bc](?![A-Za-z])/g, "$1a");
  }

  /** Words of a formula that are not letters of it: functions and operators people type. */
  var FORMULA_WORDS = {};
  ("tr trace det log ln exp sqrt norm sum diag inv softmax sigmoid tanh relu max min abs sign ones eye zeros " +
   "logdet logsumexp mean var cos sin kron vec top left right mathbf mathrm operatorname frac partial nabla").split(" ")
    .forEach(function (w) { FORMULA_WORDS[w] = true; });
  var GREEK_NAME = /^(alpha|beta|gamma|delta|epsilon|eta|theta|lambda|lam|mu|nu|rho|sigma|tau|phi|psi|omega|Gamma|Delta|Theta|Lambda|Sigma|Phi|Psi|Omega)$/;

  /** A formula with its letters renamed in order of first use (capitals A, B, C ...; small a, b, c ...;
   * the variable differentiated by, when known, as V or v): ||Xw - y||² and ||Ax - b||², θᵀAθ and xᵀAx,
   * tr(WᵀAW) and tr(XᵀBX) read the same. {text, letters}: letters counts the letters renamed. */
  function lettersRenamed(text, wrt) {
    var s = fold(text).replace(/(^|[^a-z])d\s*\/\s*d\s*[A-Za-z][A-Za-z0-9_]*/g, "$1 ");
    var names = {}, small = 0, capital = 0, letters = 0;
    var SMALL = "abcdefghijklmnopqrsuwxyz", CAPITAL = "ABCDEFGHIJKLMNOPQRSUWXYZ";  // no t/T (a transpose), no v/V
    function rename(name) {
      if (!(name in names)) {
        var cap = /^[A-Z]/.test(name);
        names[name] = wrt && name === wrt ? (cap ? "V" : "v") : cap ? CAPITAL[capital++ % 24] : SMALL[small++ % 24];
        letters++;
      }
      return names[name];
    }
    var out = s.replace(/(^|[^A-Za-z\\^._{])([A-Za-z]+)/g, function (all, before, run) {
      if (FORMULA_WORDS[run.toLowerCase()]) return all;
      if (GREEK_NAME.test(run)) return before + rename(run);
      return before + run.split("").map(rename).join(" ");
    });
    return { text: out, letters: letters };
  }

  /** A formula key with its letters blanked (the transpose mark t, digits and + - / kept): "ytax" and
   * "xtay" both read "?t??". Only a weak hint: it ignores which letter is which. */
  function skeleton(key) {
    return String(key).replace(/[a-su-z]/g, "?");
  }

  /** A function of one variable written without its argument: u(x)ᵀv(x) as uᵀv, U(t)⁻¹ as
   * U⁻¹ (people drop the argument; the rules write it). */
  function dropArgs(text) {
    return String(text).replace(/(^|[^A-Za-z])([A-Za-z])\s*\(\s*[A-Za-z]\s*\)/g, "$1$2");
  }

  /** A key with repeated factors as powers: xx as x2 (X @ X is X^2). */
  function powers(key) {
    return key.replace(/([a-z])\1+/g, function (run) { return run[0] + run.length; });
  }

  /** The keys of one formula spelling: as written, without function arguments, with powers. */
  function formulaKeys(text) {
    var out = [];
    [formulaKey(text), formulaKey(dropArgs(text))].forEach(function (k) {
      [k, powers(k)].forEach(function (v) { if (v.length >= 2 && out.indexOf(v) < 0) out.push(v); });
    });
    return out;
  }

  var STOP = {};
  ("of the a an by with respect to wrt for and in on is are what how find formula rule rules " +
   "compute computing calculate please my its it as at from wrt.").split(" ").forEach(function (w) { STOP[w] = true; });

  /** Stop words that still name a rule after another word: "sum rule", "product rule",
   * "chain rule" are joined (~sumrule), though "rule" alone says nothing. */
  var NAMED = { rule: true, rules: true };

  /** Words people write in several ways, read as one. */
  var SYNONYM = {
    tr: "trace", det: "determinant", dets: "determinant", inv: "inverse", grad: "gradient",
    gradients: "gradient", deriv: "derivative", derivatives: "derivative", jacobians: "jacobian",
    lse: "logsumexp", logistic: "sigmoid", swish: "silu", ce: "crossentropy", nll: "likelihood",
    mse: "mse", layernorm: "layernormalisation", matrices: "matrix", hessians: "hessian",
    transposed: "transpose", frob: "frobenius", eucl: "euclidean", logdet: "logdeterminant",
    backprop: "backpropagation", fc: "linear", dense: "linear", softmaxes: "softmax"
  };

  function stem(w) {
    if (/^\d/.test(w)) return w;
    w = w.replace(/iz(e|es|ed|ing|ation|ations)$/, "is$1");
    if (w.length > 4 && /ies$/.test(w)) return w.slice(0, -3) + "y";
    if (/sses$/.test(w)) return w.slice(0, -2);
    if (w.length > 3 && /s$/.test(w) && !/(ss|us|is|as)$/.test(w)) return w.slice(0, -1);
    return w;
  }

  /** Joined terms (see tokenize) carry this mark, so that a word typed in full is not
   * taken as the prefix of every join that starts with it ("attention" would otherwise
   * also match attentioncausal, attentionmasked, ... and favour rules with many joins). */
  var JOIN = "~";

  /** Terms of a text: its words, the parts of hyphenated words and their join
   * (log-sum-exp: log, sum, exp, ~logsumexp), and each pair of adjacent words joined
   * (layer norm: ~layernorm; log det: ~logdet). A query's single word is looked up both
   * as a word and as a join (processTerm), so "layernorm" finds "layer norm". */
  function tokenize(text, fieldName) {
    var words = fold(text).split(/[\s,;:!?()[\]{}"“”<>=+*\/@|^_$\\]+/);
    var out = [];
    var plain = [];
    for (var i = 0; i < words.length; i++) {
      var w = words[i];
      if (!w) continue;
      var parts = w.split(/[^A-Za-z0-9\u00C0-\u024F]+/).filter(Boolean);
      for (var j = 0; j < parts.length; j++) out.push(parts[j]);
      if (parts.length > 1 && parts.every(function (p) { return /^[A-Za-z]+$/.test(p); })) out.push(JOIN + parts.join(""));
      if (parts.length === 1) plain.push(parts[0]); else plain.push(null);
    }
    for (var k = 0; k + 1 < plain.length; k++) {
      var a = plain[k], b = plain[k + 1];
      if (a && b && /^[A-Za-z]{2,}$/.test(a) && /^[A-Za-z]{2,}$/.test(b) && !STOP[a.toLowerCase()] &&
          (!STOP[b.toLowerCase()] || NAMED[b.toLowerCase()])) {
        out.push(JOIN + a + b);
      }
    }
    if (!fieldName) return out;
    // in a document, a word counts once per field: a rule with five aliases that all say
    // "attention" is not five times more about attention than one whose title says it
    var seen = {};
    return out.filter(function (w) {
      var lw = w.toLowerCase();
      if (seen[lw]) return false;
      seen[lw] = true;
      return true;
    });
  }

  /** A term as indexed and looked up: lower case, stemmed, with its synonym. At index time
   * (fieldName given) a word stays a word and a join a join; in a query, a word is looked
   * up as both. */
  function processTerm(term, fieldName) {
    var joined = term.charAt(0) === JOIN;
    var t = (joined ? term.slice(1) : term).toLowerCase();
    if (t.length < 2 || STOP[t]) return null;
    var s = stem(t);
    var syn = SYNONYM[t] || SYNONYM[s];
    var base = syn && stem(syn) !== s ? [s, stem(syn)] : [s];
    if (joined) base = base.map(function (x) { return JOIN + x; });
    else if (!fieldName) base = base.concat(base.map(function (x) { return JOIN + x; }));
    return base.length === 1 ? base[0] : base;
  }

  function unjoin(term) {
    return term.charAt(0) === JOIN ? term.slice(1) : term;
  }

  // ------------------------------------------------------------------ ranking

  var FIELDS = ["id", "t", "a", "g", "f", "s", "x"];
  var BOOST = { id: 3, t: 3, a: 2, g: 1.2, f: 1.2, s: 0.6, x: 0.25 };

  function fieldText(doc, field) {
    var v = doc[field];
    if (field === "id") return String(v).replace(/-/g, " ") + " " + v;
    if (Array.isArray(v)) return v.join(" ; ");
    return v == null ? "" : String(v);
  }

  /** The variable of a derivative operator in the query (d/dX, ∂/∂x, by X), or "". */
  function wrtOf(query) {
    var m = fold(query).match(/(?:^|[^A-Za-z])d\s*\/\s*d\s*([A-Za-z][A-Za-z0-9_]*)/);
    return m ? m[1] : "";
  }

  /** The query without its words (what is left may be a formula: "gradient of x^T A x"). */
  function formulaPart(query) {
    return fold(query).split(/\s+/).filter(function (w) {
      var lw = w.toLowerCase();
      return !((lw.length > 1 && STOP[lw]) || GENERIC.test(lw) || MISSPELT_GENERIC.test(lw));
    }).join(" ");
  }

  /** The generic words as typed in a hurry (gradeint, derivitive, jacobain, hessain): not part of
   * a formula either, so "hessain of x^T A x" still reads the formula xᵀAx. */
  var MISSPELT_GENERIC = /^(gra?d[a-z]{3,}|deri[a-z]{3,}|jac[a-z]{4,}|hes[a-z]{3,}s?)$/;

  /** Words that say "a derivative" without saying of what. */
  var GENERIC = /^(gradients?|derivatives?|deriv|grad|jacobians?|hessians?|differentials?|partials?|d\/d\w+)$/;

  /** The words of the query MiniSearch looks for: without the generic ones (derivative,
   * gradient) when something else is asked, since nearly every rule is a derivative. */
  function wordQuery(query) {
    var words = fold(query).split(/\s+/).filter(Boolean);
    var content = words.filter(function (w) {
      var lw = w.toLowerCase();
      return !GENERIC.test(lw) && !STOP[lw] && /[a-z]{2,}/i.test(lw);
    });
    if (!content.length) return query;
    return words.filter(function (w) { return !/^(gradients?|derivatives?|deriv|grad)$/i.test(w); }).join(" ");
  }

  /** An alias that is a formula (x^T A x, tr(X^3), e^x) rather than words. */
  function looksLikeFormula(text) {
    var t = String(text);
    return /[\^()'|\/*@.=²³ᵀ⁻‖∂∇⊙⊘]|\d/.test(t) || /^[A-Za-z]{1,4}$/.test(t.replace(/\s+/g, ""));
  }

  /** A name as a phrase of plain words: "Chain rule" and "chain-rule" read "chain rule". */
  function phrase(text) {
    return fold(text).toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }

  function createSearch(MiniSearch, data) {
    var docs = (data && data.docs) || [];
    var byKey = {};
    var index = new MiniSearch({
      idField: "key",
      fields: FIELDS,
      storeFields: [],
      tokenize: tokenize,
      processTerm: processTerm,
      extractField: function (doc, field) { return field === "key" ? doc.key : fieldText(doc, field); },
      searchOptions: {
        boost: BOOST,
        prefix: function (term) { return term.charAt(0) !== JOIN && term.length >= 3; },
        fuzzy: function (term) { return term.charAt(0) !== JOIN && term.length >= 6 ? 0.15 : false; },
        weights: { fuzzy: 0.4, prefix: 0.6 }
      }
    });
    docs.forEach(function (doc, i) {
      doc.key = i;
      doc.names = [doc.t].concat(doc.a || []).map(phrase).filter(Boolean);
      doc.keys = [];
      doc.unified = [];
      doc.skeletons = [];
      (doc.f || []).concat((doc.a || []).filter(looksLikeFormula)).forEach(function (f) {
        formulaKeys(f).forEach(function (k) { if (doc.keys.indexOf(k) < 0) doc.keys.push(k); });
        formulaKeys(constantsUnified(f)).forEach(function (k) { if (doc.unified.indexOf(k) < 0) doc.unified.push(k); });
        formulaKeys(f).forEach(function (k) { var sk = skeleton(k); if (doc.skeletons.indexOf(sk) < 0) doc.skeletons.push(sk); });
      });
      // the rule's own formula (not its aliases) with its letters renamed, plain and with the variable marked
      doc.renamed = (doc.f || []).slice(0, 1).map(function (f) { return formulaKey(lettersRenamed(f, "").text); });
      doc.renamedWrt = (doc.f || []).slice(0, 1).map(function (f) { return formulaKey(lettersRenamed(f, doc.w || "").text); });
      byKey[i] = doc;
    });
    index.addAll(docs);

    function search(query, limit) {
      var q = String(query || "").trim();
      if (!q) return [];
      var typed = q.toLowerCase();
      q = spoken(q);
      var lower = q.toLowerCase();
      var scores = {};
      var words = wordQuery(q);
      var asked = {};
      var nAsked = 0;
      tokenize(words).forEach(function (t) {
        var p = processTerm(t);
        (Array.isArray(p) ? p.slice(0, 1) : p ? [p] : []).forEach(function (x) {
          x = unjoin(x);
          if (!asked[x]) { asked[x] = true; nAsked++; }
        });
      });
      var hits = index.search(words);
      if (hits.length === 0) hits = index.search(words, { fuzzy: 0.3, prefix: true });
      // a rule that answers every word of the query beats one that answers some of them often
      var covered = {};
      hits.forEach(function (h) {
        var got = h.queryTerms.map(unjoin).filter(function (t, i, all) { return asked[t] && all.indexOf(t) === i; }).length;
        var coverage = nAsked ? Math.min(1, got / nAsked) : 1;
        covered[h.id] = coverage;
        h.score = h.score * (0.4 + coverage) * (0.4 + coverage);
      });
      var top = Math.max.apply(null, hits.map(function (h) { return h.score; }).concat([1e-9]));
      hits.forEach(function (h) { scores[h.id] = (h.score / top) * 10; });
      var inverseOf = q.match(/^\s*(?:the\s+)?(?:inverse|inv)\s+(?:of\s+)?(.*[^a-z\s].*)$/i);
      var keys = [formulaKey(q), formulaKey(formulaPart(q)), formulaKey(dropArgs(formulaPart(q))),
                  inverseOf ? formulaKey("(" + formulaPart(inverseOf[1]) + ")^-1") : ""].filter(function (k, i, all) {
        return k.length >= 2 && all.indexOf(k) === i;
      });
      var unifiedKeys = keys.map(function (k, i) {
        return formulaKey(constantsUnified([q, formulaPart(q), dropArgs(formulaPart(q))][i] || ""));
      }).filter(function (k) { return k.length >= 2; });
      // a Hessian or second differential answers a formula only when the query asks for one
      var secondAsked = /(^|[^a-z])(second|hes+[ia][a-z]*|curvature|2nd|d2|d\^2)([^a-z]|$)|²/i.test(q);
      // a query of plain words (each of three letters or more) is not a formula spelling
      // (a Greek name beside a formula word is a letter: "log det Sigma" is log det Σ)
      var wordsOnly = /^\s*[A-Za-z]{3,}(\s+[A-Za-z]{3,})*\s*$/.test(formulaPart(q).split(/\s+/).map(function (w) {
        return GREEK_NAME.test(w) && /(^|\s)(log|det|tr|trace|inv|exp|sqrt|norm|logdet)(\s|$)/i.test(formulaPart(q)) ? "x" : w;
      }).join(" "));
      // the formula's form with every letter a blank (yᵀAx and xᵀAy, xᵀy and aᵀx): a weak match,
      // so a formula typed with other letters never finds nothing
      var skeletons = wordsOnly ? [] : keys.map(skeleton).filter(function (k) { return k.length >= 3 && /[^?]/.test(k); });
      var wrt = wrtOf(q);
      // the formula typed with other letters (||Xw - y||² for ||Ax - b||²): the variable marked when the query names it
      var renamed = wordsOnly ? null : lettersRenamed(formulaPart(q), wrt);
      var renamedKey = renamed && renamed.letters >= 1 ? formulaKey(renamed.text) : "";
      // the query is a rule's name (its title or an alias), word for word
      var said = [phrase(q), phrase(words)].filter(function (p, i, all) { return p && all.indexOf(p) === i; });
      docs.forEach(function (doc) {
        var bonus = 0;
        if (doc.k === "r") {
          if (doc.id === lower || doc.id === typed) bonus += 1000;
          else if (said.indexOf(phrase(doc.id)) >= 0) bonus += 50;  // the id with spaces: "attention v"
          else if ((doc.o || []).indexOf(lower) >= 0) bonus += 900;
          else if (lower.indexOf("-") > 0 && doc.id.indexOf(lower) === 0) bonus += 6;
          keys.forEach(function (k) {
            doc.keys.forEach(function (dk) {
              if (dk === k) bonus = Math.max(bonus, 40 + (bonus >= 900 ? bonus : 0));
              // plain words read as the start of a formula only for a rule that answers all of
              // them: "logdet" starts log(det(X)), but "sum rule jacobian" is not sum(f(x))
              else if (wordsOnly && (covered[doc.key] || 0) < 1) return;
              else if (k.length >= 3 && dk.indexOf(k) === 0) bonus = Math.max(bonus, 12 + 10 * k.length / dk.length);
              else if (k.length >= 4 && dk.indexOf(k) > 0) bonus = Math.max(bonus, 4);
            });
          });
          if (bonus < 36 && unifiedKeys.some(function (k) { return doc.unified.indexOf(k) >= 0; })) bonus = 36;
          if (bonus < 30 && renamedKey.length >= 3 && (wrt ? doc.renamedWrt : doc.renamed).indexOf(renamedKey) >= 0) bonus = wrt ? 30 : 26;
          if (bonus < 5 && skeletons.some(function (k) { return doc.skeletons.indexOf(k) >= 0; })) bonus = 5;
          if (doc.d === 2 && !secondAsked && bonus > 0 && bonus < 900) bonus = bonus / 2;
          if (said.some(function (p) { return doc.names.indexOf(p) >= 0; })) bonus += 3;
          if (wrt && doc.w) {
            if (doc.w === wrt) bonus += 3;
            else if (doc.w.toLowerCase() === wrt.toLowerCase()) bonus += 1;
          }
        } else if (doc.t.toLowerCase() === lower || doc.id === lower) {
          bonus += 45;
        }
        if (bonus > 0 || scores[doc.key] !== undefined) {
          scores[doc.key] = (scores[doc.key] || 0) + bonus;
          // in words too: "softmax cross entropy logits gradient" asks for the gradient, not its Hessian
          if (doc.d === 2 && !secondAsked && bonus === 0) scores[doc.key] *= 0.6;
        }
      });
      var out = Object.keys(scores).map(function (key) {
        var doc = byKey[key];
        var s = scores[key] - (doc.k === "r" ? doc.r * 0.002 : 0.5);
        return { doc: doc, score: s };
      });
      out.sort(function (a, b) { return b.score - a.score; });
      return out.slice(0, limit || 12);
    }

    return { search: search, size: docs.length };
  }

  // ------------------------------------------------------------------ the box

  function attachUi(win) {
    if (!win || !win.document) return;
    var document = win.document;
    var script = document.currentScript;
    var siteRoot = script ? new URL("../../", script.src).href : new URL("./", win.location.href).href;
    var engine = null;
    var loading = null;
    var active = -1;
    var current = [];

    function dialog() { return document.querySelector(".mc-search-dialog"); }
    function input() { return document.querySelector(".mc-search-input"); }

    function loadScript(src) {
      return new Promise(function (resolve, reject) {
        var el = document.createElement("script");
        el.src = src;
        el.onload = function () { resolve(); };
        el.onerror = function () { reject(new Error("cannot load " + src)); };
        document.head.appendChild(el);
      });
    }

    function load() {
      if (loading === null) {
        var lib = typeof win.MiniSearch !== "undefined" ? Promise.resolve() : loadScript(siteRoot + "assets/minisearch/minisearch.js");
        var data = fetch(siteRoot + "assets/mcref-search.json").then(function (r) {
          if (!r.ok) throw new Error("assets/mcref-search.json: HTTP " + r.status);
          return r.json();
        });
        loading = Promise.all([lib, data]).then(function (got) {
          engine = createSearch(win.MiniSearch, got[1]);
          win.mcrefSearch = engine;
          return engine;
        });
        loading.catch(function (err) {
          status("The search could not load (" + err.message + ").");
          console.error("mcref search:", err);
        });
      }
      return loading;
    }

    function status(text) {
      var el = document.querySelector(".mc-search-status");
      if (el) el.textContent = text;
    }

    function layout() {
      return document.documentElement.getAttribute("data-mc-layout") === "denominator" ? "pd" : "pn";
    }

    function render(results, query) {
      var list = document.getElementById("mc-search-results");
      if (!list) return;
      list.textContent = "";
      current = results;
      active = results.length ? 0 : -1;
      results.forEach(function (res, i) {
        var doc = res.doc;
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "mc-search-option-" + i;
        var a = document.createElement("a");
        a.href = siteRoot + doc.u;
        a.className = "mc-search-hit" + (doc.k === "s" ? " mc-search-hit-section" : "");
        a.setAttribute("data-rule", doc.id);
        var title = document.createElement("span");
        title.className = "mc-hit-title";
        title.textContent = doc.t;
        a.appendChild(title);
        var preview = document.createElement("span");
        preview.className = "mc-hit-preview";
        if (doc.k === "r") {
          preview.textContent = doc[layout()] + (doc.pw && doc.pw.length ? "   where " + doc.pw.join(", ") : "");
        } else {
          preview.textContent = "Section: " + doc.n + " rules, as a table. " + (doc.x || "");
        }
        a.appendChild(preview);
        if (doc.k === "r") {
          var where = document.createElement("span");
          where.className = "mc-hit-section";
          where.textContent = doc.s;
          a.appendChild(where);
        }
        a.addEventListener("click", close);
        li.appendChild(a);
        list.appendChild(li);
      });
      highlight();
      if (!query) status("Type a name (sigmoid, layer norm), a formula (tr(X^T X), a'x, ||x||^2) or a rule id.");
      else if (!results.length) status("No rule matches “" + query + "”. Try fewer words, a function name (trace, det, softmax) or the index of all rules.");
      else status(results.length + (results.length === 1 ? " rule" : " results") + " for “" + query + "”; Enter opens the first.");
    }

    function highlight() {
      var items = document.querySelectorAll(".mc-search-results > li");
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === active ? "true" : "false");
      }
      var inp = input();
      if (inp) {
        if (active >= 0) inp.setAttribute("aria-activedescendant", "mc-search-option-" + active);
        else inp.removeAttribute("aria-activedescendant");
      }
      if (active >= 0 && items[active] && items[active].scrollIntoView) items[active].scrollIntoView({ block: "nearest" });
    }

    var seq = 0;
    function run() {
      var inp = input();
      if (!inp) return;
      var q = inp.value;
      var mine = ++seq;
      load().then(function (eng) {
        if (mine !== seq) return;
        render(eng.search(q, 12), q.trim());
        document.documentElement.setAttribute("data-mc-search", "done");
      });
    }

    function open(text) {
      var dlg = dialog();
      if (!dlg) return;
      if (!dlg.open) {
        if (dlg.showModal) dlg.showModal(); else dlg.setAttribute("open", "");
      }
      var inp = input();
      inp.focus();
      if (typeof text === "string") {
        // typing began elsewhere (the home page's box): go on after what was typed
        inp.value = text;
        inp.setSelectionRange(text.length, text.length);
      } else {
        inp.select();
      }
      document.documentElement.removeAttribute("data-mc-search");
      run();
    }

    function close() {
      var dlg = dialog();
      if (dlg && dlg.open) {
        if (dlg.close) dlg.close(); else dlg.removeAttribute("open");
      }
    }

    document.addEventListener("click", function (event) {
      var t = event.target;
      if (!t || !t.closest) return;
      if (t.closest(".mc-search-open")) { open(); return; }
      if (t.closest(".mc-search-close")) { close(); return; }
      if (t.classList && t.classList.contains("mc-search-dialog")) close(); // the backdrop
    });

    document.addEventListener("input", function (event) {
      var t = event.target;
      if (t && t.classList && t.classList.contains("mc-search-input")) run();
      if (t && t.classList && t.classList.contains("mc-search-inline")) {
        var text = t.value;
        t.value = "";
        open(text);
      }
    });

    document.addEventListener("keydown", function (event) {
      var t = event.target;
      var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable);
      if (!typing && event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        event.stopPropagation();
        open();
        return;
      }
      if (!(t && t.classList && t.classList.contains("mc-search-input"))) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (current.length) {
          active = (active + (event.key === "ArrowDown" ? 1 : current.length - 1)) % current.length;
          highlight();
        }
      } else if (event.key === "Enter") {
        event.preventDefault();
        var link = document.querySelector("#mc-search-option-" + Math.max(active, 0) + " a");
        if (link) link.click();
      }
    }, true);

    // Fetched when a reader reaches for the box, not with the page (first view stays light).
    ["pointerenter", "focusin", "touchstart"].forEach(function (type) {
      document.addEventListener(type, function (event) {
        var t = event.target;
        if (t && t.closest && (t.closest(".mc-search-open") || t.closest(".mc-search-inline"))) load();
      }, { capture: true, passive: true });
    });
    win.mcrefOpenSearch = open;
  }

  return { createSearch: createSearch, formulaKey: formulaKey, spoken: spoken, constantsUnified: constantsUnified,
           lettersRenamed: lettersRenamed,
           tokenize: tokenize, processTerm: processTerm, attachUi: attachUi };
});
