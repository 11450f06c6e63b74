#!/usr/bin/env bash
# Set up everything mcref needs, from the project's own files, on a fresh machine:
#   - system packages (Debian/Ubuntu): TeX Live for the PDF, chromium for the browser tests,
#     poppler-utils for reading PDFs back; installed with apt-get where missing;
#   - a virtual environment .venv with mcref and its Python dependencies (pyproject.toml);
#   - the npm packages of the site (package-lock.json: KaTeX).
# Where a system package cannot be installed (no root, not Debian), it says exactly what to
# install and goes on: the site and `mcref check` do not need TeX or a browser.
set -euo pipefail
cd "$(dirname "$0")/.."

TEX_PACKAGES="texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended latexmk lmodern"
BROWSER_PACKAGES="chromium chromium-driver"
TOOL_PACKAGES="poppler-utils"

missing=()
command -v latexmk >/dev/null 2>&1 && kpsewhich xltabular.sty >/dev/null 2>&1 && kpsewhich lmodern.sty >/dev/null 2>&1 \
  || missing+=($TEX_PACKAGES)
command -v chromium >/dev/null 2>&1 || missing+=($BROWSER_PACKAGES)
command -v pdftotext >/dev/null 2>&1 || missing+=($TOOL_PACKAGES)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    echo "setup: installing system packages: ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: cannot install system packages here. Install them, then run this again:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install ${missing[*]}" >&2
    echo "  elsewhere: a TeX Live with latexmk, lmodern and xltabular; chromium; poppler-utils" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"

if command -v npm >/dev/null 2>&1; then
  npm ci --silent --no-audit --no-fund
else
  echo "setup: npm not found; the site needs KaTeX from the npm registry: install Node.js and npm, then run 'npm ci'" >&2
fi
echo "setup: done (.venv, node_modules$( [ ${#missing[@]} -gt 0 ] && echo ", system packages: ${missing[*]}"))"
