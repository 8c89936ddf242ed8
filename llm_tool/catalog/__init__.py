"""Pretrained models the tool knows offline: bundled, registered folders and downloads, with languages and sizes."""
