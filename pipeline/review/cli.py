"""``deidcode review``: fill the coder queue from a run, add users, serve the
pages, export what coders approved."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from pipeline.cli_common import CliError

SESSION_KEY_ENV = "DEIDCODE_REVIEW_SESSION_KEY"


def add_review_parser(commands: argparse._SubParsersAction) -> None:
    review = commands.add_parser(
        "review",
        help="the coder review queue",
        description="The coder review queue: load a run's suggested codes, add users, serve "
        "the web pages, export approved codes.",
    )
    actions = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)

    def with_db(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--db",
            required=True,
            metavar="URL",
            help="the review database: sqlite:///review.sqlite or postgresql://…",
        )
        return parser

    load = with_db(
        actions.add_parser(
            "load",
            help="queue a finished run's suggested codes",
            description="Add one work item per note with suggested codes. The note text comes "
            "from the export the run read, checked against the run's keyed text digest; "
            "loading a run twice adds nothing.",
        )
    )
    load.add_argument("run_dir", metavar="RUN_DIR", help="a finished deidcode run")
    load.add_argument("--input", required=True, help="the export the run read")
    load.add_argument("--format", default="csv", help="its format, as for `deidcode run`")
    load.add_argument("--config", help="the run's config (its input.columns)")
    load.add_argument("--key-file", help="a file holding the run key (else the env var)")
    load.add_argument("--workgroup", default="coding", help="workgroup of every item")
    load.add_argument(
        "--workgroup-map",
        metavar="MAP",
        help="NOTE_TYPE=WORKGROUP pairs joined by commas, or a JSON file; others get --workgroup",
    )
    load.add_argument("--payment-year", type=int, default=2026, help="for HCC impact")
    load.add_argument(
        "--per",
        choices=("note", "encounter"),
        default="note",
        help="one work item per note (default), or per encounter with its notes together",
    )

    user = actions.add_parser("user", help="manage review users")
    user_actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = with_db(user_actions.add_parser("add", help="add a user"))
    add.add_argument("name", help="the user name coders log in with")
    add.add_argument(
        "--role",
        required=True,
        choices=("coder", "lead", "admin"),
        help="coder: works charts; lead: also sees the scorecard; admin: every workgroup",
    )
    add.add_argument("--workgroup", action="append", default=[], help="repeat for several")
    add.add_argument("--password-file", help="a file holding the password (else it is asked for)")

    serve = with_db(
        actions.add_parser(
            "serve",
            help="serve the review pages",
            description="Serve the queue, chart and scorecard pages. Binds 127.0.0.1 unless "
            "told otherwise; behind a TLS proxy give --secure-cookies (runbooks/review-queue.md).",
        )
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this host only)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--session-key-file",
        help=f"a file holding the session-signing key (else the env var {SESSION_KEY_ENV})",
    )
    serve.add_argument(
        "--secure-cookies",
        action="store_true",
        help="mark the session cookie Secure (set it whenever users reach the app over TLS)",
    )

    export = with_db(
        actions.add_parser(
            "export",
            help="write the codes coders approved",
            description="Accepted, edited-to and added codes of submitted items, as "
            "DIR/review_codes.parquet and DIR/diagnoses.csv (the diagnoses input of "
            "`deidcode hcc score`).",
        )
    )
    export.add_argument(
        "--output", required=True, metavar="DIR", help="where to write the approved codes"
    )
    export.add_argument("--crosswalk", help="patient_id -> member_id CSV (`hcc crosswalk`)")
    export.add_argument("--source-map", help="NOTE_TYPE=SOURCE pairs, as for hcc --from-run")
    export.add_argument("--default-source", help="the source of other note types")


def run_review_command(args: argparse.Namespace) -> int:
    from schemas.review_db import upgrade_schema

    engine = _engine(args.db)
    upgrade_schema(engine)
    if args.review_command == "load":
        return _load(args, engine)
    if args.review_command == "user":
        return _add_user(args, engine)
    if args.review_command == "serve":
        return _serve(args, engine)
    return _export(args, engine)


def _engine(url: str):
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CliError(
            f"--db {url!r} is not a database URL (sqlite:///… or postgresql://…)"
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise CliError("--db must be a SQLite or PostgreSQL URL")
    return sa.create_engine(parsed)


def _load(args: argparse.Namespace, engine) -> int:
    from pipeline.hcc_from_run import parse_source_map
    from pipeline.keys import load_key
    from pipeline.review.runs import export_texts, read_run_codes
    from schemas.config import load_config
    from transforms.core.keyed import RunKeys, key_fingerprint
    from transforms.hcc.tables import load_payment_year
    from transforms.review.loader import load_run

    config = load_config(args.config)
    key = load_key(
        key_file=args.key_file, env_var=config.keys.env_var, min_chars=config.keys.min_key_chars
    )
    groups = parse_source_map(args.workgroup_map)
    run = read_run_codes(args.run_dir)
    if run.key_fingerprint != key_fingerprint(key):
        # Every digest would differ and every item be quarantined: say why instead.
        raise CliError(
            f"the key given is not the one run {args.run_dir} used (its fingerprint differs "
            "from the run manifest's key_fingerprint)"
        )
    summary = load_run(
        engine,
        run,
        export_texts(args.input, args.format, config),
        RunKeys.derive(key),
        year=load_payment_year(args.payment_year),
        workgroup_for=lambda note_type: groups.get(note_type or "", args.workgroup),
        per=args.per,
    )
    quarantined = sum(summary.quarantined.values())
    print(
        f"review load {run.run_id}: {summary.items_added} item(s) with "
        f"{summary.suggestions_added} suggested code(s) added; {summary.already_loaded} "
        f"already loaded, {summary.superseded} superseded, {summary.kept_claimed} kept "
        f"(claimed or submitted), {quarantined} quarantined"
        + (f" {summary.quarantined}" if quarantined else "")
    )
    return 0


def _add_user(args: argparse.Namespace, engine) -> int:
    from transforms.review.users import add_user

    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CliError(f"password file {args.password_file}: {type(exc).__name__}") from None
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the passwords differ")
    user_id = add_user(engine, args.name, password, role=args.role, workgroups=args.workgroup)
    print(f"user {args.name} ({args.role}) added as #{user_id}")
    return 0


def _session_key(args: argparse.Namespace) -> bytes:
    from pipeline.keys import load_key

    return load_key(key_file=args.session_key_file, env_var=SESSION_KEY_ENV, min_chars=32)


def _serve(args: argparse.Namespace, engine) -> int:
    import uvicorn

    from pipeline.review.app import AppSettings, create_app
    from transforms.coding.codeset import bundled_code_set
    from transforms.review.codesearch import CodeSearch

    app = create_app(
        AppSettings(
            engine=engine,
            session_secret=_session_key(args),
            secure_cookies=args.secure_cookies,
            codes=CodeSearch(bundled_code_set()),
        )
    )
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"deidcode: warning: serving PHI on {args.host}; put it behind TLS "
            "(runbooks/review-queue.md)",
            file=sys.stderr,
        )
    print(f"deidcode review: serving http://{args.host}:{args.port}/", flush=True)
    # uvicorn's access log would print query strings (a code search); the app logs its own.
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0


def _export(args: argparse.Namespace, engine) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.hcc_from_run import diagnoses_csv_text, parse_source_map, read_crosswalk
    from schemas.tables import REVIEW_CODES_SCHEMA
    from transforms.review.export import approved_codes, diagnosis_rows

    codes = approved_codes(engine)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(codes, schema=REVIEW_CODES_SCHEMA)
    pq.write_table(table, out / "review_codes.parquet", compression="zstd")
    rows = diagnosis_rows(
        codes,
        source_map=parse_source_map(args.source_map),
        default_source=args.default_source,
        crosswalk=read_crosswalk(Path(args.crosswalk)) if args.crosswalk else None,
    )
    # The codes of real patients under their pseudonyms: owner-only, like a crosswalk.
    fd = os.open(out / "diagnoses.csv", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(diagnoses_csv_text(rows))
    print(f"review export: {len(codes)} approved code(s) to {out}")
    return 0
