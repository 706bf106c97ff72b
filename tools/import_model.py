#!/usr/bin/python3
"""Completes a combined CLIP / SigLIP / Chinese-CLIP export for ClipService.

  /usr/bin/python3 tools/import_model.py FOLDER [--force]

FOLDER is in the Hugging Face / transformers.js layout: config.json and onnx/model.onnx, one graph with the inputs
input_ids [, attention_mask][, token_type_ids], pixel_values and the outputs logits_per_image, logits_per_text,
text_embeds, image_embeds (Xenova's and onnx-community's exports). The importer

1. fills config.json's trained_logit_scale (the linear scale, exp of the trained log parameter) and, for SigLIP
   (model_type siglip), trained_logit_bias, from the combined graph:
   - from initializers whose names end in logit_scale / logit_bias (an exported, not constant-folded parameter;
     a logit_scale consumed by an Exp node is the logarithm, one multiplied in directly is already linear);
   - and by evaluating the part of the graph between text_embeds/image_embeds and logits_per_image with numpy on
     chosen unit embeddings: scale = Δlogit / Δcos over two pairs, bias = l1 - scale * c1, and a third pair must
     fit the same line. This is the issue's "run it once on two prompts", restricted to the scoring tail: Debian
     has no onnxruntime for Python and onnx 1.12 has no onnx.reference, so the importer does not run the towers.
     It works for any tail made of the usual elementwise and layout operators (MatMul, Transpose, Mul, Add, Exp,
     Cast, Unsqueeze, Clip, ...), which covers torch exports with and without constant folding; a tail it cannot
     evaluate, or one that does not start at the two embedding outputs, is reported by name.
   When both ways give a value they must agree (relative 1e-4), else nothing is written.
2. splits the combined graph, when onnx/text_model.onnx or onnx/vision_model.onnx is absent, with
   onnx.utils.extract_model into text_model.onnx (the text inputs the text_embeds path reads -> text_embeds) and
   vision_model.onnx (pixel_values -> image_embeds), keeping the tensor names. ONNX Runtime would otherwise run both
   towers for every text and every image.

Existing files and existing config.json values are never replaced without --force. One line per action.
Exit status: 0 done, 1 the graph disagrees with itself or with config.json (nothing written for that step), 2 the
folder is not a combined export the importer understands.

Importable: `from import_model import import_folder` (tools/ on sys.path); import_folder(folder, force) returns a
dict of what it did and raises ImportFailure (with .exit_code) where the CLI would exit non-zero.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

TEXT_OUTPUT, IMAGE_OUTPUT, LOGITS_OUTPUT = "text_embeds", "image_embeds", "logits_per_image"
PIXELS = "pixel_values"
AGREEMENT = 1e-4


class ImportFailure(Exception):
    """A step the importer refuses; exit_code 2 for a folder it does not understand, 1 for a contradiction."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------------------------------------------
# A small numpy evaluator for the scoring tail (and for constant subgraphs).

class _Unsupported(Exception):
    pass


def _attrs(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


_NP_TYPES = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64,
             onnx.TensorProto.FLOAT16: np.float16, onnx.TensorProto.INT64: np.int64,
             onnx.TensorProto.INT32: np.int32, onnx.TensorProto.BOOL: np.bool_}


def _run_node(node: onnx.NodeProto, args: list) -> list:
    op, a = node.op_type, _attrs(node)
    binary = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power,
              "Max": np.maximum, "Min": np.minimum}
    unary = {"Exp": np.exp, "Log": np.log, "Neg": np.negative, "Sqrt": np.sqrt, "Abs": np.abs,
             "Reciprocal": np.reciprocal, "Identity": lambda x: x}
    if op in binary and len(args) == 2:
        out = binary[op](args[0], args[1])
        return [out.astype(np.result_type(args[0], args[1]), copy=False)]
    if op in ("Max", "Min") and args:
        out = args[0]
        for x in args[1:]:
            out = binary[op](out, x)
        return [out]
    if op in unary:
        return [unary[op](args[0])]
    if op == "Constant":
        if "value" in a:
            return [numpy_helper.to_array(a["value"])]
        for key in ("value_float", "value_int"):
            if key in a:
                return [np.array(a[key], dtype=np.float32 if key == "value_float" else np.int64)]
        raise _Unsupported("Constant without a tensor value")
    if op == "Cast":
        return [args[0].astype(_NP_TYPES[a["to"]])]
    if op == "Transpose":
        return [np.transpose(args[0], a.get("perm"))]
    if op == "MatMul":
        return [np.matmul(args[0], args[1])]
    if op == "Gemm":
        x = args[0].T if a.get("transA", 0) else args[0]
        y = args[1].T if a.get("transB", 0) else args[1]
        out = a.get("alpha", 1.0) * (x @ y)
        if len(args) > 2 and args[2] is not None:
            out = out + a.get("beta", 1.0) * args[2]
        return [out.astype(np.float32)]
    if op == "Unsqueeze":
        axes = a.get("axes", None) if len(args) < 2 else [int(v) for v in args[1].ravel()]
        out = args[0]
        for axis in sorted(axes):
            out = np.expand_dims(out, axis)
        return [out]
    if op == "Squeeze":
        axes = a.get("axes", None) if len(args) < 2 else [int(v) for v in args[1].ravel()]
        return [np.squeeze(args[0], axis=None if axes is None else tuple(axes))]
    if op == "Reshape":
        shape = [int(v) for v in args[1].ravel()]
        shape = [args[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return [args[0].reshape(shape)]
    if op == "Clip":
        low = args[1] if len(args) > 1 and args[1] is not None else a.get("min", -np.inf)
        high = args[2] if len(args) > 2 and args[2] is not None else a.get("max", np.inf)
        return [np.clip(args[0], low, high)]
    if op == "Shape":
        return [np.array(args[0].shape, dtype=np.int64)]
    if op == "Gather":
        return [np.take(args[0], args[1], axis=a.get("axis", 0))]
    if op == "Concat":
        return [np.concatenate(args, axis=a["axis"])]
    raise _Unsupported(f"operator {op}")


def _producers(graph: onnx.GraphProto) -> dict:
    return {out: node for node in graph.node for out in node.output if out}


def _evaluate(graph: onnx.GraphProto, target: str, feeds: dict) -> np.ndarray:
    """Evaluates `target` from `feeds` and the graph's initializers; raises _Unsupported naming what it met."""
    producers = _producers(graph)
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    values.update(feeds)
    graph_inputs = {i.name for i in graph.input}
    stack = [target]
    while stack:
        name = stack[-1]
        if name in values or name == "":
            stack.pop()
            continue
        node = producers.get(name)
        if node is None:
            raise _Unsupported(f"'{name}', a graph input" if name in graph_inputs else f"'{name}', which nothing produces")
        pending = [i for i in node.input if i and i not in values]
        if pending:
            if any(p in stack for p in pending):
                raise _Unsupported("a cycle")
            stack.extend(pending)
            continue
        try:
            results = _run_node(node, [values.get(i) if i else None for i in node.input])
        except _Unsupported as e:
            raise _Unsupported(f"{e} (node '{node.name or node.output[0]}')") from None
        for out, value in zip(node.output, results):
            values[out] = np.asarray(value)
        stack.pop()
    return values[target]


def _depends_on(graph: onnx.GraphProto, target: str, stop: set[str]) -> set[str]:
    """The graph inputs that `target` is computed from, not looking past the names in `stop`."""
    producers = _producers(graph)
    graph_inputs = {i.name for i in graph.input}
    initializers = {i.name for i in graph.initializer}
    seen, found, stack = set(), set(), [target]
    while stack:
        name = stack.pop()
        if name in seen or not name or name in stop:
            continue
        seen.add(name)
        if name in graph_inputs and name not in initializers:
            found.add(name)
        elif name in producers:
            stack.extend(producers[name].input)
    return found


# --------------------------------------------------------------------------------------------------------------
# The two ways to the scale and bias.

def _scalar(array: np.ndarray, name: str) -> float:
    if array.size != 1:
        raise ImportFailure(f"initializer '{name}' holds {array.size} values, not one; not a logit scale/bias.", 2)
    return float(array.ravel()[0])


def _from_initializers(graph: onnx.GraphProto) -> dict:
    """{'scale': (linear, name, how), 'bias': (value, name)} from initializers named ...logit_scale / ...logit_bias."""
    consumers: dict[str, list[str]] = {}
    for node in graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node.op_type)
    found: dict = {}
    for init in graph.initializer:
        if init.name.endswith("logit_scale") and "scale" not in found:
            raw = _scalar(numpy_helper.to_array(init), init.name)
            ops = consumers.get(init.name, [])
            if not ops:
                continue  # dead weight: the graph does not use it
            if "Exp" in ops:
                found["scale"] = (math.exp(raw), init.name, f"exp({raw:.6g})")
            else:
                found["scale"] = (raw, init.name, "used as is by " + "/".join(sorted(set(ops))))
        elif init.name.endswith("logit_bias") and "bias" not in found and consumers.get(init.name):
            found["bias"] = (_scalar(numpy_helper.to_array(init), init.name), init.name)
    return found


def _embedding_size(model: onnx.ModelProto, name: str) -> int | None:
    for value in list(model.graph.output) + list(model.graph.value_info):
        if value.name == name:
            dims = value.type.tensor_type.shape.dim
            if len(dims) >= 2 and dims[-1].dim_value > 0:
                return dims[-1].dim_value
    return None


def _projection_width(graph: onnx.GraphProto, name: str) -> int | None:
    """The output width of the nearest MatMul/Gemm with a 2-D initializer above `name` (the projection)."""
    producers = _producers(graph)
    initializers = {i.name: i for i in graph.initializer}
    seen, frontier = set(), [name]
    for _ in range(12):
        following = []
        for tensor in frontier:
            node = producers.get(tensor)
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            if node.op_type in ("MatMul", "Gemm") and len(node.input) > 1 and node.input[1] in initializers:
                dims = list(initializers[node.input[1]].dims)
                if len(dims) == 2:
                    transposed = node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
                    return dims[0] if transposed else dims[1]
            following.extend(node.input)
        frontier = following
    return None


def _from_graph(model: onnx.ModelProto) -> tuple[float, float] | str:
    """(scale, bias) from evaluating the scoring tail on three pairs of unit embeddings, or why it could not."""
    graph = model.graph
    sources = _depends_on(graph, LOGITS_OUTPUT, {TEXT_OUTPUT, IMAGE_OUTPUT})
    if sources:
        return (f"{LOGITS_OUTPUT} is computed from {', '.join(sorted(sources))} other than through "
                f"{TEXT_OUTPUT}/{IMAGE_OUTPUT}; the importer evaluates only the scoring tail")
    size = _embedding_size(model, TEXT_OUTPUT) or _embedding_size(model, IMAGE_OUTPUT)
    if size is None or size < 2:
        try:
            inferred = onnx.shape_inference.infer_shapes(model)
            size = _embedding_size(inferred, TEXT_OUTPUT) or _embedding_size(inferred, IMAGE_OUTPUT)
        except Exception:  # noqa: BLE001 - shape inference is best effort here
            size = None
    if size is None or size < 2:
        size = _projection_width(graph, TEXT_OUTPUT)
    if size is None or size < 2:
        # The tail of a dual encoder multiplies two embeddings and then scalars: it holds no constant of the
        # embedding's width, so any width gives the same line; the third pair below checks the line anyway.
        size = 8
    cosines = np.array([0.3, -0.5, 0.8], dtype=np.float64)
    image = np.zeros((1, size), dtype=np.float32)
    image[0, 0] = 1.0
    text = np.zeros((3, size), dtype=np.float32)
    text[:, 0] = cosines
    text[:, 1] = np.sqrt(1.0 - cosines ** 2)
    cosines = (text.astype(np.float64) @ image[0].astype(np.float64))
    try:
        logits = _evaluate(graph, LOGITS_OUTPUT, {TEXT_OUTPUT: text, IMAGE_OUTPUT: image})
    except _Unsupported as e:
        return f"the path from {TEXT_OUTPUT}/{IMAGE_OUTPUT} to {LOGITS_OUTPUT} has {e}, which the importer does not evaluate"
    except (ValueError, TypeError, KeyError) as e:
        return f"evaluating the path to {LOGITS_OUTPUT} failed: {e}"
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape != (1, 3):
        return f"{LOGITS_OUTPUT} came out {logits.shape} for 1 image and 3 texts, not (1, 3)"
    l1, l2, l3 = logits[0]
    c1, c2, c3 = cosines
    scale = (l2 - l1) / (c2 - c1)
    bias = l1 - scale * c1
    predicted = scale * c3 + bias
    if not math.isfinite(scale) or abs(predicted - l3) > AGREEMENT * max(1.0, abs(l3)):
        return f"{LOGITS_OUTPUT} is not linear in the cosine (a third pair gave {l3:.6g}, the line {predicted:.6g})"
    return float(scale), float(bias)


def _agree(a: float, b: float) -> bool:
    return abs(a - b) <= AGREEMENT * max(1.0, abs(a), abs(b))


# --------------------------------------------------------------------------------------------------------------

def _read_config(folder: Path) -> tuple[dict, str]:
    path = folder / "config.json"
    if not path.is_file():
        raise ImportFailure(f"{folder}: no config.json; not a Hugging Face model folder.", 2)
    text = path.read_text(encoding="utf-8")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportFailure(f"{path}: not JSON ({e.msg}, line {e.lineno}).", 2) from None
    if not isinstance(config, dict):
        raise ImportFailure(f"{path}: not a JSON object.", 2)
    return config, text


def _indent_of(text: str) -> int:
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(stripped) < len(line):
            return len(line) - len(stripped)
    return 2


def _log(report: dict, line: str, echo: bool) -> None:
    report["actions"].append(line)
    if echo:
        print(line)


def import_folder(folder: Path, force: bool = False, echo: bool = True) -> dict:
    """Fills config.json's trained logit scale/bias and splits onnx/model.onnx; see the module's docstring.

    Returns {'folder', 'model_type', 'trained_logit_scale', 'trained_logit_bias', 'scale_source', 'bias_source',
    'checked_by_graph', 'config_updated', 'written', 'kept', 'actions'} (written/kept: paths relative to folder).
    Raises ImportFailure (exit_code 2: not a combined export; 1: a contradiction, nothing written for that step).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ImportFailure(f"{folder}: not a folder.", 2)
    config, config_text = _read_config(folder)
    combined = folder / "onnx" / "model.onnx"
    if not combined.is_file():
        raise ImportFailure(f"{folder}: no onnx/model.onnx (the combined graph this importer reads).", 2)
    try:
        model = onnx.load(str(combined))
    except Exception as e:  # noqa: BLE001 - protobuf raises several types for a broken file
        raise ImportFailure(f"{combined}: not an ONNX model ({type(e).__name__}).", 2) from None
    graph = model.graph
    outputs = {o.name for o in graph.output}
    inputs = [i.name for i in graph.input if i.name not in {init.name for init in graph.initializer}]
    missing = [n for n in (LOGITS_OUTPUT, TEXT_OUTPUT, IMAGE_OUTPUT) if n not in outputs]
    if missing or PIXELS not in inputs:
        what = ", ".join(missing + ([f"input {PIXELS}"] if PIXELS not in inputs else []))
        raise ImportFailure(f"{combined}: not a combined CLIP-style graph (no {what}).", 2)

    model_type = config.get("model_type")
    sigmoid = model_type == "siglip"
    report = {"folder": str(folder), "model_type": model_type, "trained_logit_scale": None, "trained_logit_bias": None,
              "scale_source": None, "bias_source": None, "checked_by_graph": False, "config_updated": False,
              "written": [], "kept": [], "actions": []}

    # 1. Scale and bias.
    named = _from_initializers(graph)
    evaluated = _from_graph(model)
    if isinstance(evaluated, str):
        _log(report, f"graph: could not evaluate the scoring tail: {evaluated}", echo)
        evaluated = None
    else:
        report["checked_by_graph"] = True
        _log(report, f"graph: {LOGITS_OUTPUT} = {evaluated[0]:.6g} * cos + {evaluated[1]:.6g} (scoring tail evaluated)", echo)

    if "scale" in named:
        scale, name, how = named["scale"]
        report["scale_source"] = f"initializer {name} ({how})"
        if evaluated and not _agree(scale, evaluated[0]):
            raise ImportFailure(f"{combined}: initializer {name} gives scale {scale:.6g}, the graph computes "
                                f"{evaluated[0]:.6g}; config.json not changed.")
    elif evaluated:
        scale = evaluated[0]
        report["scale_source"] = "graph evaluation"
    else:
        raise ImportFailure(f"{combined}: no initializer named *logit_scale and the scoring tail could not be "
                            "evaluated (see above); set trained_logit_scale in config.json by hand.")
    bias = None
    if "bias" in named:
        bias, name = named["bias"]
        report["bias_source"] = f"initializer {name}"
        if evaluated and not _agree(bias, evaluated[1]):
            raise ImportFailure(f"{combined}: initializer {name} gives bias {bias:.6g}, the graph computes "
                                f"{evaluated[1]:.6g}; config.json not changed.")
    elif evaluated:
        bias = evaluated[1]
        report["bias_source"] = "graph evaluation"
    if sigmoid and bias is None:
        raise ImportFailure(f"{combined}: a SigLIP graph without a logit_bias initializer whose scoring tail could "
                            "not be evaluated; set trained_logit_bias in config.json by hand.")
    if not sigmoid and bias is not None and abs(bias) > AGREEMENT * max(1.0, scale):
        _log(report, f"note: model_type {model_type!r} is softmax-scored; the graph's bias {bias:.6g} is not written "
                     "(softmax ignores a shared bias)", echo)

    updates = {"trained_logit_scale": float(np.float32(scale))}
    if sigmoid:
        updates["trained_logit_bias"] = float(np.float32(bias))
    changed = False
    for key, value in updates.items():
        report[key] = value
        old = config.get(key)
        if isinstance(old, (int, float)) and not isinstance(old, bool) and _agree(float(old), value):
            _log(report, f"config.json: {key} already {old} (from the graph: {value:.8g}), kept", echo)
            continue
        if old is not None and not force:
            raise ImportFailure(f"{folder / 'config.json'}: {key} is already {old!r}, the graph says {value:.8g}; "
                                "pass --force to replace it.")
        config[key] = value
        changed = True
        source = report["scale_source"] if key == "trained_logit_scale" else report["bias_source"]
        _log(report, f"config.json: {key} = {value:.8g} ({source})", echo)
    if changed:
        (folder / "config.json").write_text(
            json.dumps(config, indent=_indent_of(config_text), ensure_ascii=False) + "\n", encoding="utf-8")
        report["config_updated"] = True

    # 2. Split.
    text_inputs = sorted(_depends_on(graph, TEXT_OUTPUT, set()), key=inputs.index)
    image_inputs = sorted(_depends_on(graph, IMAGE_OUTPUT, set()), key=inputs.index)
    if PIXELS in text_inputs or image_inputs != [PIXELS]:
        raise ImportFailure(f"{combined}: {TEXT_OUTPUT} reads {text_inputs} and {IMAGE_OUTPUT} reads {image_inputs}; "
                            "the towers are not separable.", 2)
    for file, tower_inputs, output in (("text_model.onnx", text_inputs, TEXT_OUTPUT),
                                       ("vision_model.onnx", image_inputs, IMAGE_OUTPUT)):
        path = folder / "onnx" / file
        relative = f"onnx/{file}"
        if path.exists() and not force:
            report["kept"].append(relative)
            _log(report, f"{relative}: exists, kept (pass --force to replace it)", echo)
            continue
        onnx.utils.extract_model(str(combined), str(path), tower_inputs, [output])
        report["written"].append(relative)
        _log(report, f"{relative}: written ({', '.join(tower_inputs)} -> {output}, "
                     f"{path.stat().st_size:,} bytes)", echo)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="model folder with config.json and onnx/model.onnx")
    parser.add_argument("--force", action="store_true", help="replace existing split graphs and config values")
    args = parser.parse_args(argv)
    try:
        import_folder(args.folder, args.force)
    except ImportFailure as e:
        print(f"import_model: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
