"""Deletes on tables: Spyglass's cautious delete (``delete``, ``cautious_delete``,
``super_delete``) and DataJoint's ``delete_quick``, over spyglass-rs's cautious
delete — the permission check by lab team, the cascade to everything downstream
(masters with their parts), the log row in ``common_usage.CautiousDelete``, one
transaction. The confirmation DataJoint asks for follows ``safemode`` as in
datajoint-python (``config["safemode"]`` when not given)."""

from __future__ import annotations

import logging

from . import _native

logger = logging.getLogger("spyglass_rs")

#: settings of the package, as datajoint-python's ``dj.config`` keys
config = {"safemode": True}


def _user_choice(prompt):
    """DataJoint's confirmation: true only for an answer of ``yes``."""
    answer = input(f"{prompt} [yes, No]: ")
    return answer.strip().lower() == "yes"


def unlogged(conn, fn):
    """Calls ``fn()`` with export logging on ``conn`` suspended for this thread."""
    return _native.without_export_logging(conn._native, fn)


class DeleteMixin:
    """``delete`` and friends of a table, whole or restricted."""

    def _delete_args(self):
        return self._conn._native, self._whole.table_name, list(self._restrictions)

    def cautious_delete(
        self,
        force_permission=False,
        dry_run=False,
        safemode=None,
        transaction=True,
        force_parts=False,
        force_masters=False,
        user=None,
        keep_files=False,
    ):
        """Spyglass's ``cautious_delete``: deletes the rows and everything that
        depends on them once the user may (an admin, or in a lab team with every
        experimenter of the sessions the rows belong to; ``force_permission``
        skips the check and is logged as a super delete), logging the delete to
        ``common_usage.CautiousDelete``. With ``safemode`` (default
        ``config["safemode"]``) the rows per table are shown and the delete asks
        for confirmation. Returns the number of rows deleted from this table, as
        DataJoint's ``delete``; with ``dry_run`` nothing is deleted and the rows
        that would be are returned as ``{full table name: rows}``.

        ``user`` names the lab member's ``datajoint_user_name`` on SQLite (default
        ``$SPYGLASS_USER``, ``$USER``); on MySQL the database account is the user.
        The delete is always one transaction (``transaction`` is accepted for
        DataJoint's signature); masters go with their parts (``force_parts`` and
        ``force_masters`` are accepted likewise)."""
        del transaction, force_parts, force_masters  # always so here
        conn, table, restrictions = self._delete_args()
        if safemode is None:
            safemode = config.get("safemode", True)

        def run(dry):
            return unlogged(
                self._conn,
                lambda: _native.cautious_delete(
                    conn, table, restrictions, dry, bool(force_permission), user, keep_files
                ),
            )

        preview = run(True)
        for w in preview["warnings"]:
            logger.warning(w)
        planned = preview["planned"]
        if dry_run:
            return {full: n for full, _, n in planned}
        if not planned:
            logger.warning("Nothing to delete.")
            return 0
        for full, _, n in planned:
            line = f"Deleting {n} rows from {full}"
            if safemode:
                print(line)
            else:
                logger.info(line)
        if safemode and not _user_choice("Commit deletes?"):
            print("Delete cancelled")
            return 0
        done = run(False)
        for w in done["warnings"]:
            if w not in preview["warnings"]:
                logger.warning(w)
        if safemode:
            print("Delete committed.")
        return sum(n for full, _, n in done["deleted"] if full == done["table"])

    def delete(self, force_permission=False, dry_run=False, **kwargs):
        """Spyglass's ``delete``: the cautious delete (see ``cautious_delete``)."""
        return self.cautious_delete(force_permission=force_permission, dry_run=dry_run, **kwargs)

    def super_delete(self, warn=True, **kwargs):
        """Spyglass's ``super_delete``: the cautious delete without the permission
        check, logged as ``Super delete``."""
        if warn:
            logger.warning("!! Bypassing cautious_delete !!")
        return self.cautious_delete(force_permission=True, **kwargs)

    def delete_quick(self, get_count=False):
        """DataJoint's ``delete_quick``: deletes the rows without cascading or
        asking (refused while other rows refer to them); the count with ``get_count``."""
        n = unlogged(self._conn, lambda: _native.delete_quick(*self._delete_args()))
        return n if get_count else None
