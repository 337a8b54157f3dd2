"""Browser demo of the four token locations: ``make demo`` serves it at http://127.0.0.1:5000."""
