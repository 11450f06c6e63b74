"""Verdict cache: an unchanged claim is not proved again.

The key hashes the parsed claim (expressions, shapes, assumptions, sizes) with the
engine and SymPy versions, so a change to any of them, or an engine upgrade, re-proves.
Titles, notes and sources are not part of the key: editing them costs no proof.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from generator import ENGINE_VERSION
from generator.engine.claims import Claim, Verdict, sympy_version


def default_cache_dir() -> Path:
    if os.environ.get("MCREF_CACHE_DIR"):
        return Path(os.environ["MCREF_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcref" / "verdicts"


def claim_key(claim: Claim) -> str:
    text = json.dumps({"engine": ENGINE_VERSION, "sympy": sympy_version(), "claim": claim.content()})
    return hashlib.sha256(text.encode()).hexdigest()


class VerdictCache:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder  # None: caching off

    def get(self, claim: Claim) -> Verdict | None:
        if self.folder is None:
            return None
        path = self.folder / f"{claim_key(claim)}.json"
        try:
            return Verdict.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged entries are simply proved again

    def put(self, claim: Claim, verdict: Verdict) -> None:
        if self.folder is None or verdict.status == "undecided":
            return  # an undecided verdict may be a time-out: try again next time
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{claim_key(claim)}.json"
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(verdict.to_json(), sort_keys=True), encoding="utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache folder costs time, never correctness
