"""What the settings wizard needs besides storage, shared by the intake's JSON API and the
dashboard's pages: the request body, the connection check and the scope preview."""
