"""Environment check: each check a plain record (ok, warning or problem, with the fix); no UI here."""
