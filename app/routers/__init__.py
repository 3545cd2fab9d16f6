"""Thin HTTP adapters: parse, call one use-case, shape the answer."""
