"""The use cases of NCCID Desktop, written once and run by both front ends.

Each workflow is Qt-free: it takes a progress callback and a cancel token
(:mod:`nccid_desktop.tasks`) and returns a result value. ``nccid_desktop.gui`` runs them in its
worker pool and shows their progress; ``nccid_desktop.cli`` runs them in the foreground and
prints. Neither front end decides anything a workflow decides.
"""
