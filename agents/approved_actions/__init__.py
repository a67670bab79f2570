"""Operator actions carried out after an approval: credit, cancel, extend_trial, retry_task,
manual_charge, write_off. One graph (`graph.py`) drives them all around the approval gate."""
