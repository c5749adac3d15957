"""The API's routers, one module per area; each declares its least role with console.auth.require."""
