"""llm-tool: fine-tune transformer text classifiers without writing code, and never lose a run."""

__version__ = "0.1.0"
__all__ = ["__version__"]
