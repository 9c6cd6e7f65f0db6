"""One router per resource; :mod:`mostrador.api.api` mounts them."""
