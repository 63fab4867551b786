"""Validators, chatimg check, validations after generation."""
