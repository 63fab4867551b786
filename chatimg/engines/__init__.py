"""Engines turn a ``EngineRequest`` into images. ``base`` holds the contract, ``registry``
finds engine kinds through entry points, ``catalog`` lists the models people can pick."""
