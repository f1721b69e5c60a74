"""Pages open to everyone: home, language switch, health."""
