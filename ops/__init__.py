"""Operations scripts: backups (`make backup`, `make restore`), fault injection
(`make faults`), two servers behind HAProxy (`make cluster`) and the soak (`make soak`).
docs/operations.md says what each does and checks."""
