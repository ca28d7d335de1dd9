"""Writes the hostile-input corpus of tests/hostile_corpus.rs.

Each file is a small mutation of a real fixture (the scikit-learn digits MLP
or the conv fixture), shaped like one family of bad input found by a fuzz
campaign: sizes that wrap or explode, values the integer network cannot
hold, graphs that are not chains of layers, data files that do not line up.
Run from this directory with the packages of tests/fixtures/requirements.txt
(only `onnx` is needed): `python3 make_corpus.py`. The output is
deterministic; the expected error of each file is in tests/hostile_corpus.rs.
"""

import copy
import gzip

import onnx
from onnx import helper, numpy_helper

DIGITS = onnx.load("../fixtures/digits_mlp.onnx")
CONV = onnx.load("../fixtures/onnx/conv_pool.onnx")


def save(model, name):
    with open(name, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))


def digits():
    return copy.deepcopy(DIGITS)


def initializer(model, name):
    return next(t for t in model.graph.initializer if t.name == name)


def node(model, name):
    return next(n for n in model.graph.node if n.name == name)


def declare_huge(tensor, dims):
    """Declares dims whose product wraps a 64-bit counter, with no data."""
    del tensor.dims[:]
    tensor.dims.extend(dims)
    del tensor.float_data[:]
    tensor.raw_data = b""


# Sizes: weight dims whose product wraps (2^4 · 2^60 = 2^64 ≡ 0), as MatMul,
# Gemm and Gemm with transB read them.
m = digits()
declare_huge(initializer(m, "coefficient"), [16, 2**60])
save(m, "matmul_dims_wrap.onnx")

for trans_b, dims, name in [(0, [64, 2**58], "gemm_dims_wrap.onnx"), (1, [2**58, 64], "gemm_transb_dims_wrap.onnx")]:
    m = digits()
    mm = node(m, "MatMul")
    mm.op_type = "Gemm"
    mm.attribute.append(helper.make_attribute("transB", trans_b))
    declare_huge(initializer(m, "coefficient"), [d for d in dims])
    save(m, name)

# Sizes: an input shape whose product overflows, and one of 10^9 values.
for dims, name in [([2**62, 2**62], "input_shape_overflow.onnx"), ([10**9], "input_billion.onnx")]:
    m = digits()
    shape = m.graph.input[0].type.tensor_type.shape
    del shape.dim[1:]
    for d in dims:
        shape.dim.add().dim_value = d
    save(m, name)

# Sizes: convolution pads of 2^62.
m = copy.deepcopy(CONV)
conv = node(m, "conv1")
for a in conv.attribute:
    if a.name == "pads":
        del a.ints[:]
        a.ints.extend([2**62] * 4)
save(m, "conv_pads_huge.onnx")

# Quantization: a bias of 1e30, and weights near 1e-43 (subnormal floats).
m = digits()
b = numpy_helper.to_array(initializer(m, "intercepts")).copy()
b[0, 3] = 1e30
initializer(m, "intercepts").CopyFrom(numpy_helper.from_array(b, "intercepts"))
save(m, "bias_1e30.onnx")

m = digits()
w = numpy_helper.to_array(initializer(m, "coefficient")).copy() * 1e-43
initializer(m, "coefficient").CopyFrom(numpy_helper.from_array(w, "coefficient"))
save(m, "weights_1e-43.onnx")

# Graphs: a duplicate initializer name (the second would replace the first
# layer's weights), a cycle, a dangling input, an output off the chain.
m = digits()
extra = copy.deepcopy(initializer(m, "coefficient"))
del extra.float_data[:]
extra.float_data.extend([0.5] * (64 * 32))
m.graph.initializer.append(extra)
save(m, "duplicate_initializer.onnx")

m = digits()
node(m, "Add").input[0] = "next_activations"  # written later by Relu, which reads Add
save(m, "cycle.onnx")

m = digits()
node(m, "MatMul1").input[1] = "coefficient_missing"
save(m, "dangling_input.onnx")

m = digits()
m.graph.output.append(helper.make_tensor_value_info("mul_result", onnx.TensorProto.FLOAT, None))
save(m, "output_off_chain.onnx")

# Data: a typo in the first data row of a CSV (it must not become a header),
# and labels that do not line up with the samples.
with gzip.open("../fixtures/digits/test_images.csv.gz", "rt") as f:
    rows = f.read().splitlines()[:20]
first = rows[0].split(",")
first[5] = first[5] + "x"
with open("first_row_typo.csv", "w") as f:
    f.write("\n".join([",".join(first)] + rows[1:]) + "\n")
with gzip.open("../fixtures/digits/test_labels.csv.gz", "rt") as f:
    labels = f.read().splitlines()[:21]
with open("labels_one_too_many.csv", "w") as f:
    f.write("\n".join(labels) + "\n")
with open("digits_20.csv", "w") as f:
    f.write("\n".join(rows) + "\n")
