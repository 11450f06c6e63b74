/* mcref: the "Check a derivative" page's Python, in a worker so the page stays responsive.
 *
 * Messages in:  {type: "boot", base: "<site>/assets/"}  then  {type: "check", id, fields}
 * Messages out: {type: "stage", stage, ms}  {type: "ready", ms, version}
 *               {type: "result", id, result, ms}  {type: "error", id?, message}
 * Pyodide (npm package `pyodide`) and the Python sources (assets/check/mcref-py.json) are
 * loaded from the site's own origin; nothing is fetched from anywhere else. A module
 * worker: Pyodide 314 runs in module workers only.
 */
import { loadPyodide } from "../pyodide/pyodide.mjs";

var started = Date.now();
var pyodide = null;
var booting = null;

function stage(name) {
  postMessage({ type: "stage", stage: name, ms: Date.now() - started });
}

function boot(base) {
  stage("runtime");
  return loadPyodide({ indexURL: base + "pyodide/", fullStdLib: false, stdout: function () {}, stderr: function () {} })
    .then(function (py) {
      pyodide = py;
      stage("sources");
      return fetch(base + "check/mcref-py.json", { credentials: "same-origin" });
    })
    .then(function (response) {
      if (!response.ok) throw new Error("cannot load the checker's Python sources (" + response.status + ")");
      return response.json();
    })
    .then(function (bundle) {
      stage("python");
      var home = "/home/pyodide/mcref/";
      Object.keys(bundle).forEach(function (path) {
        var full = home + path;
        pyodide.FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
        pyodide.FS.writeFile(full, bundle[path]);
      });
      pyodide.runPython(
        "import sys, json\n" +
        "sys.path.insert(0, '/home/pyodide/mcref')\n" +
        "from generator.student.browser_check import check as _mcref_check\n" +
        "def _mcref_run(text):\n" +
        "    return json.dumps(_mcref_check(json.loads(text)))\n"
      );
      var version = pyodide.runPython("import sys; sys.version.split()[0]");
      postMessage({ type: "ready", ms: Date.now() - started, version: "Pyodide " + pyodide.version + ", Python " + version });
    });
}

onmessage = function (event) {
  var msg = event.data || {};
  if (msg.type === "boot") {
    if (booting === null) {
      booting = boot(msg.base).catch(function (err) {
        postMessage({ type: "error", message: "the checker could not start: " + (err && err.message ? err.message : String(err)) });
        throw err;
      });
    }
    return;
  }
  if (msg.type === "check") {
    (booting || Promise.reject(new Error("not started"))).then(function () {
      var t = performance.now();
      var run = pyodide.globals.get("_mcref_run");
      var text = run(JSON.stringify(msg.fields));
      run.destroy();
      postMessage({ type: "result", id: msg.id, result: JSON.parse(text), ms: performance.now() - t });
    }).catch(function (err) {
      postMessage({ type: "error", id: msg.id, message: err && err.message ? err.message : String(err) });
    });
  }
};
