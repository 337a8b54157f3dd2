"""Example apps: Flask-JWT-Guard with Flask-RESTX, Flask-RESTful, flask-smorest and APIFlask."""
