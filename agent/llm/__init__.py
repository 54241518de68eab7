"""The language model: its weights (weights.py), the managed vLLM server (server.py), and the one
client every tool samples through (client.py)."""
