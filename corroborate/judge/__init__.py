"""The sentence judge: the model, reading a claim's atoms against evidence sentences, batch pairs."""
