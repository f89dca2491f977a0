"""The tracking API (DESIGN §3): ``/v1/batch`` and friends, as Segment's clients call them.

``middleware`` answers the paths before the console's middleware runs; ``http`` turns a request
into a call of ``intake.accept``; ``parse`` holds the request-level rules, ``messages`` the
per-message ones; ``delivery.archive`` stores what was accepted.
"""
