"""Mobilisation simulation (being built): SimPy processes, scenarios as data, sweeps."""
