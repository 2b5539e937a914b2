"""Run by test_libvirt_compat under an interpreter that has libvirt-python: every constant,
function and method of the siphon binding (less its documented extensions) must have the same
name, value and signature in libvirt. Prints {"checked": N, "problems": [...]} as JSON."""

import ast
import inspect
import json
import sys
import types

import libvirt
import siphon


def parameters(function):
    """(name, kind, default) of each parameter: inspect.signature, else the code's argument names."""
    try:
        return [(p.name, p.kind.name, repr(p.default)) for p in inspect.signature(function).parameters.values()]
    except (TypeError, ValueError):
        code = function.__code__
        return [(name, "?", "?") for name in code.co_varnames[: code.co_argcount]]


def compare(problems, label, ours, theirs):
    if theirs is None:
        problems.append("%s: libvirt has no such name" % label)
    elif parameters(ours) != parameters(theirs):
        problems.append("%s: signature %s here, %s in libvirt" % (label, inspect.signature(ours), inspect.signature(theirs)))


def main(example_path):
    problems, checked = [], 0
    extensions = siphon.SIPHON_EXTENSIONS
    for name, value in sorted(vars(siphon).items()):
        if name.startswith("_") or name in extensions or isinstance(value, types.ModuleType):
            continue
        checked += 1
        if name.startswith("VIR_"):
            if not hasattr(libvirt, name):
                problems.append("%s: libvirt has no such constant" % name)
            elif getattr(libvirt, name) != value:
                problems.append("%s: %r here, %r in libvirt" % (name, value, getattr(libvirt, name)))
        elif inspect.isclass(value):
            theirs = getattr(libvirt, name, None)
            if not inspect.isclass(theirs):
                problems.append("%s: libvirt has no such class" % name)
                continue
            for method, function in sorted(vars(value).items()):
                label = "%s.%s" % (name, method)
                if method.startswith("_") or label in extensions or not callable(function):
                    continue
                checked += 1
                compare(problems, label, function, getattr(theirs, method, None))
        elif inspect.isfunction(value):
            compare(problems, name, value, getattr(libvirt, name, None))
        else:
            problems.append("%s: a public name that is neither a constant, a class nor a function" % name)
    for label in extensions:
        owner, _, member = label.rpartition(".")
        scope = getattr(libvirt, owner, None) if owner else libvirt
        if scope is not None and hasattr(scope, member):
            problems.append("%s is listed as an extension but libvirt has it" % label)
    # the example uses only what libvirt has: libvirt.NAME exists, and no extension is called
    with open(example_path) as f:
        tree = ast.parse(f.read())
    members = {e.rpartition(".")[2] for e in extensions}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "libvirt" and not hasattr(libvirt, node.attr):
                problems.append("the example uses libvirt.%s, which libvirt lacks" % node.attr)
            if node.attr in members:
                problems.append("the example calls the Siphon extension %s" % node.attr)
    print(json.dumps({"checked": checked, "problems": problems, "libvirt": libvirt.getVersion()}))


if __name__ == "__main__":
    main(sys.argv[1])
