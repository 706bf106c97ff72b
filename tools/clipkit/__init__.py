"""Model tooling for ClipService: CLIP architecture, export to the Hugging Face / Xenova folder layout,
reference tensors, and the default model's training data. Runs on Debian's python3-torch."""
