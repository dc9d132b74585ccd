"""The `cardak` command: run the mesh, send images, search, simulate cameras."""
