"""``deidcode models``: list, verify and export the registry's ONNX models."""

from __future__ import annotations

import argparse

from pipeline.cli_common import CliError


def add_models_parser(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser(
        "models",
        help="list, verify and export ONNX models in the registry",
        description="Manage the ONNX token-classification models in onnx_models/.",
    )
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the registered models with their versions and variants")
    verify = actions.add_parser(
        "verify", help="check every file of a model against its manifest's sha256"
    )
    verify.add_argument("model", help="registry name or model folder")
    export = actions.add_parser(
        "export",
        help="export a Hugging Face token-classification checkpoint to ONNX (export extra)",
        description=(
            "Export a Hugging Face token-classification checkpoint folder (local: nothing is "
            "downloaded) through optimum's ONNX exporter into the registry, "
            "with an int8 (CPU, dynamic quantization) and an fp16 (GPU) variant. Needs "
            "pip install 'deidcode[export]'."
        ),
    )
    export.add_argument("source", help="a local checkpoint folder")
    export.add_argument("--name", required=True, help="registry name of the exported model")
    export.add_argument("--int8", action="store_true", help="also write the int8 CPU variant")
    export.add_argument("--fp16", action="store_true", help="also write the fp16 GPU variant")
    export.add_argument("--version", default="1", help="model version recorded in the manifest")
    export.add_argument("--license", default="unknown", help="licence recorded in the manifest")
    export.add_argument("--max-length", type=int, help="window length in tokens (default: model's)")
    export.add_argument("--stride", type=int, help="window overlap in tokens (default: 1/4)")
    export.add_argument(
        "--label-map",
        metavar="FILE.json",
        help="JSON object mapping model labels to deidcode subtypes",
    )
    export.add_argument("--registry", metavar="DIR", help="registry folder (default: onnx_models/)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing model folder")


def run_models_command(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from onnx_models.registry import list_models, load_bundle

    if args.models_command == "list":
        for name in list_models():
            manifest = load_bundle(name, verify=False, task=None).manifest
            variants = ",".join(sorted(manifest.variants))
            print(f"{name}\t{manifest.version}\t{manifest.task}\t{variants}")
        return 0
    if args.models_command == "verify":
        bundle = load_bundle(args.model, verify=True, task=None)
        print(f"{bundle.manifest.name}: {len(bundle.manifest.files)} files match their sha256")
        return 0
    try:
        from onnx_models.export import export_model
    except ImportError as exc:
        raise CliError(
            f"models export needs the export extra: pip install 'deidcode[export]' ({exc.name})"
        ) from None
    label_map = None
    if args.label_map:
        label_map = json.loads(Path(args.label_map).read_text(encoding="utf-8"))
    kwargs = {"registry_dir": Path(args.registry)} if args.registry else {}
    manifest = export_model(
        args.source,
        args.name,
        int8=args.int8,
        fp16=args.fp16,
        version=args.version,
        license=args.license,
        label_map=label_map,
        max_length=args.max_length,
        stride=args.stride,
        overwrite=args.overwrite,
        **kwargs,
    )
    print(f"exported {manifest.name} {manifest.version}: {', '.join(sorted(manifest.variants))}")
    return 0
