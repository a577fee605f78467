"""Common code of every Sarabun process: message contracts, ports and adapters, settings, web helpers.

Nothing here imports a service.
"""
