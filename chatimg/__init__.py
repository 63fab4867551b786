"""chatimg: make images by chatting with many image models at once, in the terminal."""

__version__ = "0.1.0"
