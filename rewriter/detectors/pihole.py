"""Pi-hole: its blocklist update writes every blocked domain to a file in /tmp.

``pihole -g`` (``gravity.sh``, run when the container starts and then weekly by cron) downloads
each adlist through a temporary file made with ``mktemp -p "/tmp"`` and collects the domains of all
of them, one CSV line each, in another (``target="$(mktemp -p "/tmp" --suffix=".gravity")"``)
before importing it into the gravity database. Its size is the sum of the adlists the users add in
the web interface, which the repository does not say: a few MB for the default list, hundreds of
MB for the lists of millions of domains Pi-hole users commonly add. A 64m tmpfs there fails the
update once the lists outgrow it, so /tmp is reported rather than given a tmpfs (DF105).
"""

from __future__ import annotations

from rewriter.detectors.facts import Inputs, WorkloadFacts

GRAVITY_TMP = ("Pi-hole's blocklist update (pihole -g, gravity.sh: at start and weekly) writes every domain "
               "of every adlist to a file it makes with 'mktemp -p /tmp', as large as the lists the users add")


def detect(inputs: Inputs, evidence: str) -> WorkloadFacts:
    return WorkloadFacts(kind="pihole", evidence=evidence, scratch_tmp=GRAVITY_TMP,
                         scratch_effect="fails the update once the lists outgrow it; leave /tmp on disk, or give "
                                        "it a tmpfs you size for your lists")
