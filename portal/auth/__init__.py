"""Sign-in, sign-out and the password change."""
