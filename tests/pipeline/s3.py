"""Reading and writing the test bucket (the server is in ``conftest``)."""

from __future__ import annotations

from pathlib import Path

BUCKET = "deidcode-test"


def beam_flags(endpoint: str) -> list[str]:
    return [f"--s3_endpoint_url={endpoint}", "--s3_region_name=us-east-1"]


def read_object(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def keys_under(client, prefix: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def upload_tree(client, local: Path, prefix: str) -> None:
    """Every file under ``local`` to ``prefix/`` with its relative path."""
    for path in sorted(local.rglob("*")):
        if path.is_file():
            key = f"{prefix}/{path.relative_to(local).as_posix()}"
            client.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
