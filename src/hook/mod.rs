//! packwright-hook's library half: merge engines, version gate, backups, migrations.
