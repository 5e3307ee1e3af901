"""One run-result model and the writers that render it (terminal, JUnit, Markdown, JSON, HTML)."""
