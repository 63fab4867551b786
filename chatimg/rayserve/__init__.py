"""Serving local diffusers models on Ray Serve (``chatimg ray serve``); Ray loads lazily."""
