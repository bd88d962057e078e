"""``deidcode review``: the coder review queue's commands and web app."""
