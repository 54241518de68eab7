"""The HTTP API over the agent: OpenAI-compatible chat, the native task and trace API, batch jobs,
health and metrics. `agent.api.app.create_app` wires the routers; serve.py starts it."""
