"""Claims: an article split into check-worthy sentences (with attribution and hedges) and atoms."""
