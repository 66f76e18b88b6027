# Examples for services.yaml: `semgrep --test .ci/semgrep/` checks that the rule fires
# on the lines marked ruleid and stays quiet on the lines marked ok. The file is named
# services.py because the rule applies only to such files.
# ruff: noqa
from engage.extensions import db


def save(thing, session, conn):
    db.session.add(thing)
    # ok: engage-service-commits
    db.session.flush()
    # ok: engage-service-commits
    with db.session.begin_nested():
        db.session.flush()
    # ruleid: engage-service-commits
    db.session.commit()
    # ruleid: engage-service-commits
    db.session.rollback()
    # ruleid: engage-service-commits
    session.rollback()
    # ruleid: engage-service-commits
    conn.commit()
    # ok: engage-service-commits
    record_commit(thing)
