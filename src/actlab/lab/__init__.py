"""The lab: train the same model with different activations on real tasks, over several seeds.

Data path (one direction): sweep plan (task × activation × seed) → store says which runs are
missing → trainer (batched ensembles) → probes → store → report.
"""
