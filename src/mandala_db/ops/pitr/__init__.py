"""Physical backups and point-in-time recovery, driven through pgBackRest (issue 25): the engine (the
stanza's configuration and the one runner of `pgbackrest`), `pitr setup` (archiving checked, the stanza
created and checked) and `pitr status` (the backups, and how far a restore could reach now)."""
