"""Pretrained models: names resolved to a hub id or folder and loaded, what works offline, the registry, languages."""
