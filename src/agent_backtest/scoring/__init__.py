"""Classifiers: rule detectors and LLM judges that turn a Trace into a Verdict."""
