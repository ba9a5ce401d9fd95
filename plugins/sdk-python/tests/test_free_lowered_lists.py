"""tools/free_lowered_lists.py on hand-made components: the deferral goes
where the adapter's null check is, nothing else changes, and what it does
not understand stops it. That the patched component stops leaking is
tested through the broker (tests/integration/plugins_polyglot.rs,
`python_returned_payloads_are_freed_between_calls`)."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from free_lowered_lists import PatchError, patch_component, write_u  # noqa: E402

I32 = 0x7F


def vec(items) -> bytes:
    items = list(items)
    return write_u(len(items)) + b"".join(items)


def name(s: str) -> bytes:
    return write_u(len(s)) + s.encode()


def section(sid: int, content: bytes, padded: bool = False) -> bytes:
    size = write_u(len(content))
    if padded:  # a 5-byte LEB128, as linkers write them
        n = len(content)
        size = bytes([(n >> s & 0x7F) | 0x80 for s in (0, 7, 14, 21)] + [n >> 28])
    return bytes([sid]) + size + content


def functype(params: int, results: int) -> bytes:
    return b"\x60" + vec([bytes([I32])] * params) + vec([bytes([I32])] * results)


# The adapter's lowering of a list, as wit-dylib writes it: ask the runtime
# for the list (address written to the stack slot local 1 + 8), then take
# the element-by-element path only when the address is null.
POP_SITE = bytes(
    [
        0x20, 0,  # local.get 0 (the call context)
        0x41, 7,  # i32.const 7 (the list type)
        0x20, 1, 0x41, 8, 0x6A,  # local.get 1; i32.const 8; i32.add
        0x10, 0,  # call wit_dylib_pop_list
        0x21, 2,  # local.set 2 (length)
        0x20, 1, 0x41, 8, 0x6A,
        0x28, 2, 0,  # i32.load
        0x21, 3,  # local.set 3 (address)
    ]
)
NULL_CHECK = bytes([0x20, 3, 0x45, 0x04, 0x40, 0x01, 0x0B])  # if !addr { nop }
# if addr { wit_dylib_dealloc_bytes(cx, addr, len, 1, defer) }
DEFERRAL = bytes(
    [0x20, 3, 0x04, 0x40, 0x20, 0, 0x20, 3, 0x20, 2, 0x41, 1, 0x41, 1, 0x10, 1, 0x0B]
)


def body(code: bytes) -> bytes:
    locals_ = vec([write_u(3) + bytes([I32])])
    return locals_ + code + b"\x0b"


def module(code: bytes, imports=("wit_dylib_pop_list", "wit_dylib_dealloc_bytes")) -> bytes:
    types = section(1, vec([functype(3, 1), functype(5, 0), functype(2, 0)]))
    entries = [name("env") + name(n) + b"\x00" + write_u(t) for t, n in enumerate(imports)]
    imports_ = section(2, vec(entries))
    funcs = section(3, vec([write_u(2)]))
    b = body(code)
    code_ = section(10, vec([write_u(len(b)) + b]))
    custom = section(0, name("name") + b"\x01\x02", padded=True)
    return b"\0asm\x01\0\0\0" + types + imports_ + funcs + code_ + custom


def component(*modules: bytes) -> bytes:
    other = section(7, b"\x00", padded=True)  # stands for the component's other sections
    return b"\0asm\x0d\0\x01\0" + other + b"".join(section(1, m) for m in modules) + other


class FreeLoweredListsTest(unittest.TestCase):
    def test_a_deferral_goes_before_each_null_check(self):
        code = POP_SITE + NULL_CHECK + POP_SITE + NULL_CHECK
        other = module(b"", imports=("something_else",))
        patched, sites = patch_component(component(other, module(code)))
        self.assertEqual(sites, 2)
        expected = POP_SITE + DEFERRAL + NULL_CHECK + POP_SITE + DEFERRAL + NULL_CHECK
        self.assertEqual(patched, component(other, module(expected)))

    def test_a_component_without_list_lowering_is_unchanged(self):
        original = component(module(b"\x01"))
        patched, sites = patch_component(original)
        self.assertEqual(sites, 0)
        self.assertEqual(patched, original)

    def test_a_second_pass_is_refused(self):
        patched, _ = patch_component(component(module(POP_SITE + NULL_CHECK)))
        with self.assertRaisesRegex(PatchError, "already patched"):
            patch_component(patched)

    def test_an_unknown_call_site_stops_the_patch(self):
        # The address is read from another slot than the one passed.
        site = POP_SITE.replace(bytes([0x41, 8, 0x6A, 0x28]), bytes([0x41, 12, 0x6A, 0x28]))
        with self.assertRaisesRegex(PatchError, "address reload"):
            patch_component(component(module(site + NULL_CHECK)))
        with self.assertRaisesRegex(PatchError, "null check"):
            patch_component(component(module(POP_SITE + b"\x01" + NULL_CHECK)))

    def test_an_unknown_instruction_stops_the_patch(self):
        with self.assertRaisesRegex(PatchError, "unknown instruction 0xfd"):
            patch_component(component(module(b"\xfd\x0c" + bytes(16))))

    def test_it_needs_exactly_one_adapter(self):
        plain = module(b"", imports=("something_else",))
        with self.assertRaisesRegex(PatchError, "found 0"):
            patch_component(component(plain))
        with self.assertRaisesRegex(PatchError, "not a component"):
            patch_component(plain)


if __name__ == "__main__":
    unittest.main()
