"""The sales-based linear program (issue 5)."""
