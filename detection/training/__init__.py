"""Training and evaluation of the face classifiers (plain Python, no Django)."""
