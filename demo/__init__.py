"""The embedded setup's demo data: the admin login, a storefront client, the simulator seeded and
its nightly extracts applied, a few families opened (``manage.py demo_data``, run by ``bin/run``).

It stands above every other app: it may import any of them, and none imports it.
"""
