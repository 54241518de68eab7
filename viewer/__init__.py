"""The trace viewer: static files served by the app at /viewer/ (no build step)."""
