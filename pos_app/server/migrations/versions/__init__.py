"""Migration scripts; a package so an installed wheel ships them."""
