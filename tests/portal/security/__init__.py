"""The security battery: authorization matrix, form fuzzing, mass assignment."""
