"""Everything that speaks the AS400's exchange contract (docs/as400/): nothing here knows what a
record means to the business.

- ``dds.py`` reads the DDS layouts in ``dds/``; ``codec.py`` encodes and decodes their records
  (EBCDIC CCSID 297/1147, zoned and packed decimals); ``control.py`` the ``.OK`` control records;
  ``files.py`` the pairs' names and their atomic write;
- ``exchange/``: the exchange folders' port and its adapters (``local``), read and written the same
  way whatever the transport;
- ``records.py``: the exports' records as named values (``ItemMaster``, ``StockBalances``,
  ``AckRecord``, ``EventRecord``), the one place their field names are read;
- ``sync.py``: the pairs of ``OUT/`` checked, decoded and handed to the appliers the domain apps
  register (``appliers.py``), recorded as file runs, archived or quarantined;
- ``live/``: the optional live stock reader's port and its adapters (``none``, ``simulator``,
  ``legacy``: read-only SQL on the AS400's DB2, with its database router), chosen by settings;
- ``cli.py``: ``manage.py as400`` (sync, files, decode...);
- ``simulator/``: an AS400 that implements the contract, for development and tests.

May import: ``integration.core``, ``integration.alerts``, ``integration.models``.
Never a domain app (``inventory``, ``orders``, ``returns``, ``reconciliation``).
"""
