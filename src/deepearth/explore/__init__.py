"""Active learning: model deviation, candidate selection, convergence."""
