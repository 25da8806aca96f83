"""The portal: the web pages of the user guide, rendered on the server (backend-for-frontend)."""
