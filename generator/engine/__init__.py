"""The rule engine: load -> validate -> parse -> verify, and the data a check works on (Claim, Verdict)."""
