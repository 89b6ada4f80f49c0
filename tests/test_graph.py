"""The typed network model: paths, nodes and blocks, for every catalogue spec and for names that used to collide."""

from __future__ import annotations

from pathlib import Path as FilePath

import pytest

from cnnviz.graph import as_network, build_network
from cnnviz.model import INPUT, ROOT, Block, DuplicatePath, NetworkBuilder, Node, Seg
from cnnviz.registry import list_models
from cnnviz.spec.loader import load_text
from cnnviz.spec.parse import _build


def net_of(text: str):
    return build_network(_build(load_text(text, "t.yaml"), FilePath("t.yaml")))


def spec(*layers: str) -> str:
    return "name: t\ninput: [3, 8, 8]\nlayers:\n" + "".join(f"  - {line}\n" for line in layers)


# -- the path type -------------------------------------------------------------


@pytest.mark.parametrize(
    "path, text",
    [
        (ROOT, ""),
        (INPUT, "input"),
        (ROOT.child("conv1"), "conv1"),
        (ROOT.child("conv1").fold("bn"), "conv1_bn"),
        (ROOT.child("conv1").fold("bn").fold("relu"), "conv1_bn_relu"),
        (ROOT.child("layer3").copy(2).child("conv1"), "layer3.2.conv1"),
        (ROOT.child("m").child("add1").branch(1).child("conv2"), "m.add1.b1.conv2"),
        (ROOT.child("m").child("concat1").merge("concat"), "m.concat1.concat"),
    ],
)
def test_serialisation(path, text):
    assert str(path) == text


def test_segments_of_different_kinds_never_compare_equal():
    # the collisions of string ids: a layer named x_bn and the bn of x; a name b1 and branch 1; a name "2" and copy 2
    assert ROOT.child("x_bn") != ROOT.child("x").fold("bn")
    assert ROOT.child("a").child("b1") != ROOT.child("a").branch(1)
    assert ROOT.child("r").child("2") != ROOT.child("r").copy(2)
    assert ROOT.child("input") != INPUT


@pytest.mark.parametrize(
    "path, ancestor, inside",
    [
        (ROOT.child("ab").child("c"), ROOT.child("ab"), True),
        (ROOT.child("ab"), ROOT.child("ab"), True),
        (ROOT.child("abc"), ROOT.child("ab"), False),  # a string prefix is not an ancestor
        (ROOT.child("ab").copy(1), ROOT.child("ab").copy(12), False),
        (ROOT.child("a"), ROOT, True),
    ],
)
def test_within(path, ancestor, inside):
    assert path.within(ancestor) is inside


def test_rebase_and_relative_to():
    p = ROOT.child("s").copy(3).child("conv1").fold("relu")
    assert p.relative_to(ROOT.child("s").copy(3)) == ROOT.child("conv1").fold("relu")
    assert p.rebase(ROOT.child("s").copy(3), ROOT.child("s").copy(1)) == ROOT.child("s").copy(1).child("conv1").fold("relu")
    assert p.parent == ROOT.child("s").copy(3).child("conv1")
    assert p.last == Seg("fold", "relu")
    with pytest.raises(ValueError):
        p.relative_to(ROOT.child("t"))


def test_builder_refuses_a_path_twice():
    b = NetworkBuilder()
    b.add_node(Node(INPUT, "input", "input", (), ()))
    b.add_node(Node(ROOT.child("x"), "layer", "relu", (INPUT,), ()))
    with pytest.raises(DuplicatePath):
        b.add_node(Node(ROOT.child("x"), "layer", "relu", (INPUT,), ()))
    with pytest.raises(DuplicatePath):
        b.open(ROOT.child("x"))
    b.open(ROOT.child("m"))
    with pytest.raises(DuplicatePath):
        b.open(ROOT.child("m"))
    with pytest.raises(ValueError):
        b.add_node(Node(ROOT.child("y"), "layer", "relu", (ROOT.child("nowhere"),), ()))


# -- every catalogue network -----------------------------------------------------


@pytest.fixture(scope="module", params=list_models())
def network(request):
    return as_network(request.param)


def test_paths_and_their_texts_are_unique(network):
    paths = [*network.nodes, *network.blocks]
    assert len(set(paths)) == len(paths)
    texts = [str(p) for p in paths]
    assert len(set(texts)) == len(texts)
    assert all(network.find(t) == p for t, p in zip(texts, paths))


def test_nodes_run_in_order_and_read_built_nodes(network):
    seen = set()
    for path, node in network.nodes.items():
        assert node.path == path
        assert all(i in seen for i in node.inputs), f"{path} reads a node built after it"
        seen.add(path)
    assert network.output in network.nodes
    assert next(iter(network.nodes)) == INPUT


def test_scope_matches_the_path(network):
    for node in network.nodes.values():
        assert all(node.path.within(b) for b in node.scope)
        assert all(b in network.blocks for b in node.scope)
        for outer, inner in zip(node.scope, node.scope[1:]):
            assert network.blocks[inner].parent == outer


def test_blocks_parents_children_entry_exit(network):
    for path, block in network.blocks.items():
        assert block.path == path
        if block.parent is not None:
            assert path in network.blocks[block.parent].children
            assert path.within(block.parent)
        else:
            assert path in network.top
        assert block.entry in network.nodes and block.exit in network.nodes
        for child in block.children:
            assert child.within(path) and child != path
            assert child in network.blocks or network.nodes[child].kind == "layer"
        if block.kind == "repeat":
            assert block.children == tuple(path.copy(i) for i in range(1, block.count + 1))
        if block.kind == "branches":
            assert block.children == tuple(path.branch(j) for j in range(1, block.count + 1))
            assert block.exit == path.merge(block.merge)
            ends = {network.blocks[b].exit for b in block.children}
            assert set(network.nodes[block.exit].inputs) == ends


def test_folded_parts_follow_their_layer(network):
    for layer, parts in network.folds.items():
        assert all(p.parent == layer and p.is_fold for p in parts)
        assert network.nodes[parts[0]].inputs == (layer,)
        assert network.layer_exit(layer) == parts[-1]


def test_the_model_cannot_be_changed_by_a_later_stage(network):
    node = next(network.layers())
    with pytest.raises(TypeError):
        node.params["filters"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        node.type = "relu"  # type: ignore[misc]
    with pytest.raises(TypeError):
        network.nodes[INPUT] = node  # type: ignore[index]


def test_children_of_a_module_call():
    net = as_network("resnet50")
    block = net.blocks[net.find("conv2_1")]
    assert isinstance(block, Block) and block.kind == "call" and block.module == "conv_block"
    assert [str(c) for c in block.children] == ["conv2_1.add1", "conv2_1.relu1"]


# -- names that used to corrupt the network ----------------------------------------


def test_a_made_up_name_steps_around_a_written_one():
    net = net_of(spec("conv 8 3x3", "conv 8 3x3 @conv1"))
    convs = [str(n.path) for n in net.layers()]
    assert convs == ["conv2", "conv1"]
    assert [n.named for n in net.layers()] == [False, True]


def test_a_made_up_name_steps_around_the_folded_part_of_a_written_one():
    # a written 'conv1_relu' is the path the relu of a made-up 'conv1' would have, so the conv becomes conv2
    net = net_of(spec("conv 8 3x3 relu", "relu @conv1_relu"))
    assert [str(p) for p in net.nodes][1:] == ["conv2", "conv2_relu", "conv1_relu"]


@pytest.mark.parametrize(
    "lines, layers",
    [
        (("conv 8 3x3 @x", "relu @x_bn"), ["x", "x_bn"]),  # x has no batch norm: x_bn is free
        (("conv 8 3x3 bn @c", "relu @c_relu"), ["c", "c_bn", "c_relu"]),  # c has no relu
        (("conv 8 3x3 @b1", "add: [[conv 8 3x3 @b1], identity]"), ["b1", "add1.b1.b1"]),  # another scope
    ],
)
def test_legitimate_names_give_the_network_as_written(lines, layers):
    net = net_of(spec(*lines))
    assert [str(n.path) for n in net.layers()] == layers
