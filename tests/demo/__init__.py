"""Tests of the demo and scale data loaders."""
